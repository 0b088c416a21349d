/* What the verbs of husk share: the global flags and the verb table. */
#ifndef HUSK_RUNTIME_HUSK_H
#define HUSK_RUNTIME_HUSK_H

#include <getopt.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/log.h"

struct husk_globals {
	const char *root; /* state directory (--root) */
	const char *log_path;
	enum log_format log_format;
	bool debug;
	bool systemd_cgroup;
	int rootless; /* --rootless: -1 auto, 0 false, 1 true */
	const char *criu; /* --criu: the criu binary (default "criu" in PATH) */
	const char *argv0;
};

struct verb {
	const char *name;
	int (*run)(struct husk_globals *g, int argc, char **argv, struct husk_error *err);
	const char *summary;
	const char *usage; /* option lines shown by "husk VERB --help" */
	/* getopt short options, for a one-letter flag that prefixes several
	 * long ones (exec -p, -c); NULL when every -x is an unambiguous prefix */
	const char *shortopts;
	/* the verb puts a process running husk inside a container: main first
	 * re-executes husk from a sealed copy (runtime/linux/cloned-exe.c) */
	bool enters_container;
};

/* Usage errors exit with this status and print to stderr. */
#define HUSK_EXIT_USAGE 1
/* A verb returns this (positive) to say "usage error already printed". */
#define VERB_USAGE_ERROR 1001
/* A verb returns this after printing its own --help. */
#define VERB_HELP_SHOWN 1002

/* Parse a verb's options with getopt_long_only. Handles --help and unknown
 * options; returns the option character, -1 at the end, or
 * VERB_USAGE_ERROR / VERB_HELP_SHOWN. */
int verb_getopt(const struct verb *v, int argc, char **argv, const struct option *opts);
/* Print "husk VERB: message" and the usage hint; returns VERB_USAGE_ERROR. */
int verb_usage_error(const struct verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exactly n positional arguments remain after options, else a usage error. */
int verb_need_args(const struct verb *v, int argc, int n, const char *names);

/* --preserve-fds N: fds 3..3+N-1 must all have been open when husk
 * started (passed by the caller), or husk would hand the container fds of
 * its own (the state directory, --root). Returns 0, or a usage error
 * naming the first fd the caller did not pass. */
int preserve_fds_check(const struct verb *v, long n);

extern const struct verb verb_checkpoint, verb_create, verb_delete, verb_events, verb_exec, verb_features, verb_kill,
	verb_list, verb_pause, verb_ps, verb_restore, verb_resume, verb_run, verb_spec, verb_start, verb_state,
	verb_update;

#endif
