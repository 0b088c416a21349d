/* runtime-spec 1.3: config.json, the state document and features.json.
 * Field names follow the JSON keys (camelCase kept where C allows). */
#ifndef HUSK_OCI_RUNTIME_SPEC_H
#define HUSK_OCI_RUNTIME_SPEC_H

#include "oci-spec/schema.h"

#define OCI_RUNTIME_SPEC_VERSION "1.3.0"

struct oci_root {
	char *path;
	bool readonly;
};

struct oci_id_mapping {
	uint32_t containerID;
	uint32_t hostID;
	uint32_t size;
};
typedef OCI_ARRAY(struct oci_id_mapping) oci_id_mappings;

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	oci_strings options;
	oci_id_mappings uidMappings;
	oci_id_mappings gidMappings;
};

struct oci_box {
	uint32_t height;
	uint32_t width;
};

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t umask;
	bool has_umask;
	OCI_ARRAY(uint32_t) additionalGids;
	char *username;
};

struct oci_capabilities {
	oci_strings bounding;
	oci_strings effective;
	oci_strings inheritable;
	oci_strings permitted;
	oci_strings ambient;
};

struct oci_rlimit {
	char *type;
	uint64_t hard;
	uint64_t soft;
};

struct oci_scheduler {
	char *policy;
	int32_t nice;
	int32_t priority;
	oci_strings flags;
	uint64_t runtime;
	uint64_t deadline;
	uint64_t period;
};

struct oci_io_priority {
	char *class;
	int32_t priority;
};

struct oci_cpu_affinity {
	char *initial;
	char *final;
};

struct oci_process {
	bool terminal;
	struct oci_box *consoleSize;
	struct oci_user *user; /* NULL: uid 0, gid 0 (as runc) */
	oci_strings args;
	char *commandLine;
	oci_strings env;
	char *cwd;
	struct oci_capabilities *capabilities;
	OCI_ARRAY(struct oci_rlimit) rlimits;
	bool noNewPrivileges;
	char *apparmorProfile;
	int32_t oomScoreAdj;
	bool has_oomScoreAdj;
	struct oci_scheduler *scheduler;
	char *selinuxLabel;
	struct oci_io_priority *ioPriority;
	struct oci_cpu_affinity *execCPUAffinity;
};

struct oci_hook {
	char *path;
	oci_strings args;
	oci_strings env;
	int32_t timeout;
	bool has_timeout;
};
typedef OCI_ARRAY(struct oci_hook) oci_hook_list;

struct oci_hooks {
	oci_hook_list prestart;
	oci_hook_list createRuntime;
	oci_hook_list createContainer;
	oci_hook_list startContainer;
	oci_hook_list poststart;
	oci_hook_list poststop;
};

struct oci_namespace {
	char *type;
	char *path;
};

struct oci_device {
	char *type;
	char *path;
	int64_t major;
	int64_t minor;
	uint32_t fileMode;
	bool has_fileMode;
	uint32_t uid;
	bool has_uid;
	uint32_t gid;
	bool has_gid;
};

struct oci_device_cgroup {
	bool allow;
	char *type;
	int64_t major;
	bool has_major;
	int64_t minor;
	bool has_minor;
	char *access;
};

struct oci_memory {
	int64_t limit;
	bool has_limit;
	int64_t reservation;
	bool has_reservation;
	int64_t swap;
	bool has_swap;
	int64_t kernel;
	bool has_kernel;
	int64_t kernelTCP;
	bool has_kernelTCP;
	uint64_t swappiness;
	bool has_swappiness;
	bool disableOOMKiller;
	bool has_disableOOMKiller;
	bool useHierarchy;
	bool has_useHierarchy;
	bool checkBeforeUpdate;
	bool has_checkBeforeUpdate;
};

struct oci_cpu {
	uint64_t shares;
	bool has_shares;
	int64_t quota;
	bool has_quota;
	uint64_t burst;
	bool has_burst;
	uint64_t period;
	bool has_period;
	int64_t realtimeRuntime;
	bool has_realtimeRuntime;
	uint64_t realtimePeriod;
	bool has_realtimePeriod;
	char *cpus;
	char *mems;
	int64_t idle;
	bool has_idle;
};

struct oci_pids {
	int64_t limit;
};

struct oci_weight_device {
	int64_t major;
	int64_t minor;
	uint16_t weight;
	bool has_weight;
	uint16_t leafWeight;
	bool has_leafWeight;
};

struct oci_throttle_device {
	int64_t major;
	int64_t minor;
	uint64_t rate;
};
typedef OCI_ARRAY(struct oci_throttle_device) oci_throttle_devices;

struct oci_block_io {
	uint16_t weight;
	bool has_weight;
	uint16_t leafWeight;
	bool has_leafWeight;
	OCI_ARRAY(struct oci_weight_device) weightDevice;
	oci_throttle_devices throttleReadBpsDevice;
	oci_throttle_devices throttleWriteBpsDevice;
	oci_throttle_devices throttleReadIOPSDevice;
	oci_throttle_devices throttleWriteIOPSDevice;
};

struct oci_hugepage_limit {
	char *pageSize;
	uint64_t limit;
};

struct oci_interface_priority {
	char *name;
	uint32_t priority;
};

struct oci_network {
	uint32_t classID;
	bool has_classID;
	OCI_ARRAY(struct oci_interface_priority) priorities;
};

struct oci_rdma {
	uint32_t hcaHandles;
	bool has_hcaHandles;
	uint32_t hcaObjects;
	bool has_hcaObjects;
};

struct oci_resources {
	OCI_ARRAY(struct oci_device_cgroup) devices;
	struct oci_memory *memory;
	struct oci_cpu *cpu;
	struct oci_pids *pids;
	struct oci_block_io *blockIO;
	OCI_ARRAY(struct oci_hugepage_limit) hugepageLimits;
	struct oci_network *network;
	OCI_MAP(struct oci_rdma) rdma;
	oci_string_map unified;
};

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value;
	uint64_t valueTwo;
	char *op;
};

struct oci_seccomp_syscall {
	oci_strings names;
	char *action;
	uint32_t errnoRet;
	bool has_errnoRet;
	OCI_ARRAY(struct oci_seccomp_arg) args;
};

struct oci_seccomp {
	char *defaultAction;
	uint32_t defaultErrnoRet;
	bool has_defaultErrnoRet;
	oci_strings architectures;
	oci_strings flags;
	char *listenerPath;
	char *listenerMetadata;
	OCI_ARRAY(struct oci_seccomp_syscall) syscalls;
};

struct oci_intel_rdt {
	char *closID;
	char *l3CacheSchema;
	char *memBwSchema;
	oci_strings schemata; /* 1.3: one line of the schemata file each */
	bool enableMonitoring; /* 1.3: a monitoring group of the container's own */
	/* 1.1 and 1.2 spelled the monitoring as two flags: still read, and
	 * either one means enableMonitoring */
	bool enableCMT;
	bool enableMBM;
};

/* linux.memoryPolicy (1.3): set_mempolicy(2) for the container process */
struct oci_memory_policy {
	char *mode;  /* MPOL_* */
	char *nodes; /* a node list, "0-3,7" */
	oci_strings flags; /* MPOL_F_* */
};

struct oci_personality {
	char *domain;
	oci_strings flags;
};

struct oci_time_offset {
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_net_device {
	char *name;
};

struct oci_linux {
	oci_id_mappings uidMappings;
	oci_id_mappings gidMappings;
	oci_string_map sysctl;
	struct oci_resources *resources;
	char *cgroupsPath;
	OCI_ARRAY(struct oci_namespace) namespaces;
	OCI_ARRAY(struct oci_device) devices;
	struct oci_seccomp *seccomp;
	char *rootfsPropagation;
	oci_strings maskedPaths;
	oci_strings readonlyPaths;
	char *mountLabel;
	struct oci_intel_rdt *intelRdt;
	struct oci_personality *personality;
	OCI_MAP(struct oci_time_offset) timeOffsets;
	OCI_MAP(struct oci_net_device) netDevices;
	struct oci_memory_policy *memoryPolicy;
};

struct oci_config {
	char *ociVersion;
	struct oci_root *root;
	struct oci_process *process;
	char *hostname;
	char *domainname;
	OCI_ARRAY(struct oci_mount) mounts;
	struct oci_hooks *hooks;
	oci_string_map annotations;
	struct oci_linux *linux; /* the build passes -Ulinux: GNU C predefines it */
};

/* The state document (runtime-spec runtime.md "State"). */
struct oci_state {
	char *ociVersion;
	char *id;
	char *status;
	int32_t pid;
	bool has_pid;
	char *bundle;
	oci_string_map annotations;
};

/* features.json (runtime-spec features.md). Optional booleans keep
 * has_ flags: "unknown" differs from "false" there. */
struct oci_features_cgroup {
	bool v1, has_v1;
	bool v2, has_v2;
	bool systemd, has_systemd;
	bool systemdUser, has_systemdUser;
	bool rdma, has_rdma;
};

struct oci_features_seccomp {
	bool enabled, has_enabled;
	oci_strings actions;
	oci_strings operators;
	oci_strings archs;
	oci_strings knownFlags;
	oci_strings supportedFlags;
};

struct oci_features_enabled {
	bool enabled, has_enabled;
};

struct oci_features_mount_ext {
	struct oci_features_enabled *idmap;
};

struct oci_features_intel_rdt {
	bool enabled, has_enabled;
	bool schemata, has_schemata;
	bool monitoring, has_monitoring;
};

struct oci_features_memory_policy {
	oci_strings modes;
	oci_strings flags;
};

struct oci_features_linux {
	oci_strings namespaces;
	oci_strings capabilities;
	struct oci_features_cgroup *cgroup;
	struct oci_features_seccomp *seccomp;
	struct oci_features_enabled *apparmor;
	struct oci_features_enabled *selinux;
	struct oci_features_intel_rdt *intelRdt;
	struct oci_features_memory_policy *memoryPolicy;
	struct oci_features_mount_ext *mountExtensions;
	struct oci_features_enabled *netDevices;
};

struct oci_features {
	char *ociVersionMin;
	char *ociVersionMax;
	oci_strings hooks;
	oci_strings mountOptions;
	struct oci_features_linux *linux;
	oci_string_map annotations;
	oci_strings potentiallyUnsafeConfigAnnotations;
};

extern const struct oci_type oci_config_type;
extern const struct oci_type oci_process_type;
extern const struct oci_type oci_state_type;
extern const struct oci_type oci_features_type;
extern const struct oci_type oci_resources_type;

/* Decode config.json from a bundle dir fd, checking ociVersion is 1.x. */
int oci_config_load(int bundle_fd, struct oci_config **out, struct husk_error *err);
/* 0 when version is "1.<anything>", else an error naming it. */
int oci_check_version(const char *source, const char *version, struct husk_error *err);

#endif
