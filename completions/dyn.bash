# bash completion for dyn. The candidates come from dyn itself ("dyn complete WORDS..."), read
# from the same option tables that parse the command line; model ids come from the store.
_dyn() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local IFS=$'\n'
	local cands
	cands=$(dyn complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
	if [ -n "$cands" ]; then
		COMPREPLY=($(compgen -W "$cands" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _dyn dyn
