/* The common header of dyn's own code: include it after system headers (it bans unsafe calls). */
#ifndef DYN_BASE_BASE_H
#define DYN_BASE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/strbuf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "base/banned.h"

#endif
