/* Temporary: commands not yet landed. */
#include "cmd.h"
int cmd_fit(int argc, char **argv) { return usage_error("fit: not implemented yet"); }
int cmd_predict(int argc, char **argv) { return usage_error("predict: not implemented yet"); }
int cmd_models(int argc, char **argv) { return usage_error("models: not implemented yet"); }
int cmd_complete(int argc, char **argv) { return 0; }
