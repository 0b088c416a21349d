/* What husk checkpoint and husk restore share: runc's CRIU options and
 * the image and work directories. */
#ifndef HUSK_RUNTIME_CHECKPOINT_H
#define HUSK_RUNTIME_CHECKPOINT_H

#include "common/criu-rpc.h"
#include "runtime/husk.h"

/* In the image directory, as runc names it: a JSON array of what the
 * init's stdin, stdout and stderr were at the checkpoint ("pipe:[N]",
 * "/dev/null", ...), so a restore can hand the pipes' new ends over. */
#define DESCRIPTORS_FILE "descriptors.json"

struct cr_opts {
	const char *image_path; /* default ./checkpoint (as runc) */
	const char *work_path;  /* default: the image directory (CRIU's logs stay there) */
	bool tcp_established, ext_unix_sk, shell_job, file_locks, auto_dedup, lazy_pages;
	enum criu_cg_mode cg_mode;
	uint32_t empty_ns;
};

/* The long options both verbs take, for their option tables. */
#define CR_COMMON_OPTIONS                                                      \
	{ "image-path", required_argument, NULL, 'i' },                        \
	{ "work-path", required_argument, NULL, 'w' },                         \
	{ "tcp-established", no_argument, NULL, 'T' },                         \
	{ "ext-unix-sk", no_argument, NULL, 'U' },                             \
	{ "shell-job", no_argument, NULL, 'J' },                               \
	{ "file-locks", no_argument, NULL, 'L' },                              \
	{ "manage-cgroups-mode", required_argument, NULL, 'M' },               \
	{ "empty-ns", required_argument, NULL, 'E' },                          \
	{ "auto-dedup", no_argument, NULL, 'D' },                              \
	{ "lazy-pages", no_argument, NULL, 'Z' }
#define CR_COMMON_USAGE                                                                       \
	"  --image-path DIR       the checkpoint's images (default ./checkpoint)\n"           \
	"  --work-path DIR        CRIU's work directory and logs (default: the image path)\n" \
	"  --tcp-established      include established TCP connections\n"                       \
	"  --ext-unix-sk          allow external unix sockets\n"                              \
	"  --shell-job            the container runs from a shell (a terminal outside)\n"      \
	"  --file-locks           include file locks\n"                                       \
	"  --manage-cgroups-mode soft|full|strict|ignore  how CRIU handles cgroups\n"         \
	"  --empty-ns network     create the namespace but do not restore its contents\n"      \
	"  --auto-dedup           deduplicate images of a pre-dump chain\n"                   \
	"  --lazy-pages           restore memory on demand (where CRIU supports it)\n"

/* Handle one of CR_COMMON_OPTIONS: 0 when it was one, c when it is not
 * one of them, VERB_USAGE_ERROR on a bad value. */
int cr_option(const struct verb *v, int c, struct cr_opts *o);

/* Open (making, as runc, when mkdir) the image and work directories;
 * *work_path is the one used. */
int cr_open_dirs(const struct cr_opts *o, bool mkdir_images, int *image_fd, int *work_fd,
		 const char **work_path, struct husk_error *err);

#endif
