# fish completion for dyn: candidates from "dyn complete WORDS..." (the command's own option
# tables and the store's model ids); file names where dyn offers none.
function __dyn_complete
    set -l words (commandline -opc)
    set -e words[1]
    dyn complete $words (commandline -ct) 2>/dev/null
end
complete -c dyn -f -a '(__dyn_complete)'
complete -c dyn -n 'not __dyn_complete | string length -q' -F
