#include "oci-spec/runtime-spec.h"

#include <errno.h>
#include <string.h>

#include "oci-spec/json.h"

#define OCI_CUR struct oci_root
static const struct oci_field root_fields[] = {
	F_STR_REQ("path", path),
	F_VAL("readonly", readonly, OCI_BOOL),
};
static OCI_TYPE(root_type, struct oci_root, root_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_id_mapping
static const struct oci_field id_mapping_fields[] = {
	F_VAL_REQ("containerID", containerID, OCI_U32),
	F_VAL_REQ("hostID", hostID, OCI_U32),
	F_VAL_REQ("size", size, OCI_U32),
};
static OCI_TYPE(id_mapping_type, struct oci_id_mapping, id_mapping_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_mount
static const struct oci_field mount_fields[] = {
	F_STR_REQ("destination", destination),
	F_STR("type", type),
	F_STR("source", source),
	F_ARR("options", options, OCI_STR),
	F_ARR_OBJ("uidMappings", uidMappings, id_mapping_type),
	F_ARR_OBJ("gidMappings", gidMappings, id_mapping_type),
};
static OCI_TYPE(mount_type, struct oci_mount, mount_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_box
static const struct oci_field box_fields[] = {
	F_VAL_REQ("height", height, OCI_U32),
	F_VAL_REQ("width", width, OCI_U32),
};
static OCI_TYPE(box_type, struct oci_box, box_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_user
static const struct oci_field user_fields[] = {
	F_VAL_REQ("uid", uid, OCI_U32),
	F_VAL_REQ("gid", gid, OCI_U32),
	F_VAL_OPT("umask", umask, OCI_U32),
	F_ARR("additionalGids", additionalGids, OCI_U32),
	F_STR("username", username),
};
static OCI_TYPE(user_type, struct oci_user, user_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_capabilities
static const struct oci_field capabilities_fields[] = {
	F_ARR("bounding", bounding, OCI_STR),
	F_ARR("effective", effective, OCI_STR),
	F_ARR("inheritable", inheritable, OCI_STR),
	F_ARR("permitted", permitted, OCI_STR),
	F_ARR("ambient", ambient, OCI_STR),
};
static OCI_TYPE(capabilities_type, struct oci_capabilities, capabilities_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_rlimit
static const struct oci_field rlimit_fields[] = {
	F_STR_REQ("type", type),
	F_VAL_REQ("hard", hard, OCI_U64),
	F_VAL_REQ("soft", soft, OCI_U64),
};
static OCI_TYPE(rlimit_type, struct oci_rlimit, rlimit_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_scheduler
static const struct oci_field scheduler_fields[] = {
	F_STR_REQ("policy", policy),
	F_VAL("nice", nice, OCI_I32),
	F_VAL("priority", priority, OCI_I32),
	F_ARR("flags", flags, OCI_STR),
	F_VAL("runtime", runtime, OCI_U64),
	F_VAL("deadline", deadline, OCI_U64),
	F_VAL("period", period, OCI_U64),
};
static OCI_TYPE(scheduler_type, struct oci_scheduler, scheduler_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_io_priority
static const struct oci_field io_priority_fields[] = {
	F_STR_REQ("class", class),
	F_VAL("priority", priority, OCI_I32),
};
static OCI_TYPE(io_priority_type, struct oci_io_priority, io_priority_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_cpu_affinity
static const struct oci_field cpu_affinity_fields[] = {
	F_STR("initial", initial),
	F_STR("final", final),
};
static OCI_TYPE(cpu_affinity_type, struct oci_cpu_affinity, cpu_affinity_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_process
static const struct oci_field process_fields[] = {
	F_VAL("terminal", terminal, OCI_BOOL),
	F_OBJ("consoleSize", consoleSize, box_type),
	F_OBJ("user", user, user_type),
	F_ARR("args", args, OCI_STR),
	F_STR("commandLine", commandLine),
	F_ARR("env", env, OCI_STR),
	F_STR_REQ("cwd", cwd),
	F_OBJ("capabilities", capabilities, capabilities_type),
	F_ARR_OBJ("rlimits", rlimits, rlimit_type),
	F_VAL("noNewPrivileges", noNewPrivileges, OCI_BOOL),
	F_STR("apparmorProfile", apparmorProfile),
	F_VAL_OPT("oomScoreAdj", oomScoreAdj, OCI_I32),
	F_OBJ("scheduler", scheduler, scheduler_type),
	F_STR("selinuxLabel", selinuxLabel),
	F_OBJ("ioPriority", ioPriority, io_priority_type),
	F_OBJ("execCPUAffinity", execCPUAffinity, cpu_affinity_type),
};
OCI_TYPE(oci_process_type, struct oci_process, process_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_hook
static const struct oci_field hook_fields[] = {
	F_STR_REQ("path", path),
	F_ARR("args", args, OCI_STR),
	F_ARR("env", env, OCI_STR),
	F_VAL_OPT("timeout", timeout, OCI_I32),
};
static OCI_TYPE(hook_type, struct oci_hook, hook_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_hooks
static const struct oci_field hooks_fields[] = {
	F_ARR_OBJ("prestart", prestart, hook_type),
	F_ARR_OBJ("createRuntime", createRuntime, hook_type),
	F_ARR_OBJ("createContainer", createContainer, hook_type),
	F_ARR_OBJ("startContainer", startContainer, hook_type),
	F_ARR_OBJ("poststart", poststart, hook_type),
	F_ARR_OBJ("poststop", poststop, hook_type),
};
static OCI_TYPE(hooks_type, struct oci_hooks, hooks_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_namespace
static const struct oci_field namespace_fields[] = {
	F_STR_REQ("type", type),
	F_STR("path", path),
};
static OCI_TYPE(namespace_type, struct oci_namespace, namespace_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_device
static const struct oci_field device_fields[] = {
	F_STR_REQ("type", type),
	F_STR_REQ("path", path),
	F_VAL("major", major, OCI_I64),
	F_VAL("minor", minor, OCI_I64),
	F_VAL_OPT("fileMode", fileMode, OCI_U32),
	F_VAL_OPT("uid", uid, OCI_U32),
	F_VAL_OPT("gid", gid, OCI_U32),
};
static OCI_TYPE(device_type, struct oci_device, device_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_device_cgroup
static const struct oci_field device_cgroup_fields[] = {
	F_VAL_REQ("allow", allow, OCI_BOOL),
	F_STR("type", type),
	F_VAL_OPT("major", major, OCI_I64),
	F_VAL_OPT("minor", minor, OCI_I64),
	F_STR("access", access),
};
static OCI_TYPE(device_cgroup_type, struct oci_device_cgroup, device_cgroup_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_memory
static const struct oci_field memory_fields[] = {
	F_VAL_OPT("limit", limit, OCI_I64),
	F_VAL_OPT("reservation", reservation, OCI_I64),
	F_VAL_OPT("swap", swap, OCI_I64),
	F_VAL_OPT("kernel", kernel, OCI_I64),
	F_VAL_OPT("kernelTCP", kernelTCP, OCI_I64),
	F_VAL_OPT("swappiness", swappiness, OCI_U64),
	F_VAL_OPT("disableOOMKiller", disableOOMKiller, OCI_BOOL),
	F_VAL_OPT("useHierarchy", useHierarchy, OCI_BOOL),
	F_VAL_OPT("checkBeforeUpdate", checkBeforeUpdate, OCI_BOOL),
};
static OCI_TYPE(memory_type, struct oci_memory, memory_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_cpu
static const struct oci_field cpu_fields[] = {
	F_VAL_OPT("shares", shares, OCI_U64),
	F_VAL_OPT("quota", quota, OCI_I64),
	F_VAL_OPT("burst", burst, OCI_U64),
	F_VAL_OPT("period", period, OCI_U64),
	F_VAL_OPT("realtimeRuntime", realtimeRuntime, OCI_I64),
	F_VAL_OPT("realtimePeriod", realtimePeriod, OCI_U64),
	F_STR("cpus", cpus),
	F_STR("mems", mems),
	F_VAL_OPT("idle", idle, OCI_I64),
};
static OCI_TYPE(cpu_type, struct oci_cpu, cpu_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_pids
static const struct oci_field pids_fields[] = {
	F_VAL_REQ("limit", limit, OCI_I64),
};
static OCI_TYPE(pids_type, struct oci_pids, pids_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_weight_device
static const struct oci_field weight_device_fields[] = {
	F_VAL_REQ("major", major, OCI_I64),
	F_VAL_REQ("minor", minor, OCI_I64),
	F_VAL_OPT("weight", weight, OCI_U16),
	F_VAL_OPT("leafWeight", leafWeight, OCI_U16),
};
static OCI_TYPE(weight_device_type, struct oci_weight_device, weight_device_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_throttle_device
static const struct oci_field throttle_device_fields[] = {
	F_VAL_REQ("major", major, OCI_I64),
	F_VAL_REQ("minor", minor, OCI_I64),
	F_VAL_REQ("rate", rate, OCI_U64),
};
static OCI_TYPE(throttle_device_type, struct oci_throttle_device, throttle_device_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_block_io
static const struct oci_field block_io_fields[] = {
	F_VAL_OPT("weight", weight, OCI_U16),
	F_VAL_OPT("leafWeight", leafWeight, OCI_U16),
	F_ARR_OBJ("weightDevice", weightDevice, weight_device_type),
	F_ARR_OBJ("throttleReadBpsDevice", throttleReadBpsDevice, throttle_device_type),
	F_ARR_OBJ("throttleWriteBpsDevice", throttleWriteBpsDevice, throttle_device_type),
	F_ARR_OBJ("throttleReadIOPSDevice", throttleReadIOPSDevice, throttle_device_type),
	F_ARR_OBJ("throttleWriteIOPSDevice", throttleWriteIOPSDevice, throttle_device_type),
};
static OCI_TYPE(block_io_type, struct oci_block_io, block_io_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_hugepage_limit
static const struct oci_field hugepage_limit_fields[] = {
	F_STR_REQ("pageSize", pageSize),
	F_VAL_REQ("limit", limit, OCI_U64),
};
static OCI_TYPE(hugepage_limit_type, struct oci_hugepage_limit, hugepage_limit_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_interface_priority
static const struct oci_field interface_priority_fields[] = {
	F_STR_REQ("name", name),
	F_VAL_REQ("priority", priority, OCI_U32),
};
static OCI_TYPE(interface_priority_type, struct oci_interface_priority, interface_priority_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_network
static const struct oci_field network_fields[] = {
	F_VAL_OPT("classID", classID, OCI_U32),
	F_ARR_OBJ("priorities", priorities, interface_priority_type),
};
static OCI_TYPE(network_type, struct oci_network, network_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_rdma
static const struct oci_field rdma_fields[] = {
	F_VAL_OPT("hcaHandles", hcaHandles, OCI_U32),
	F_VAL_OPT("hcaObjects", hcaObjects, OCI_U32),
};
static OCI_TYPE(rdma_type, struct oci_rdma, rdma_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_resources
static const struct oci_field resources_fields[] = {
	F_ARR_OBJ("devices", devices, device_cgroup_type),
	F_OBJ("memory", memory, memory_type),
	F_OBJ("cpu", cpu, cpu_type),
	F_OBJ("pids", pids, pids_type),
	F_OBJ("blockIO", blockIO, block_io_type),
	F_ARR_OBJ("hugepageLimits", hugepageLimits, hugepage_limit_type),
	F_OBJ("network", network, network_type),
	F_MAP_OBJ("rdma", rdma, rdma_type),
	F_MAP("unified", unified, OCI_STR),
};
OCI_TYPE(oci_resources_type, struct oci_resources, resources_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_seccomp_arg
static const struct oci_field seccomp_arg_fields[] = {
	F_VAL_REQ("index", index, OCI_U32),
	F_VAL_REQ("value", value, OCI_U64),
	F_VAL("valueTwo", valueTwo, OCI_U64),
	F_STR_REQ("op", op),
};
static OCI_TYPE(seccomp_arg_type, struct oci_seccomp_arg, seccomp_arg_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_seccomp_syscall
static const struct oci_field seccomp_syscall_fields[] = {
	F_ARR_REQ("names", names, OCI_STR),
	F_STR_REQ("action", action),
	F_VAL_OPT("errnoRet", errnoRet, OCI_U32),
	F_ARR_OBJ("args", args, seccomp_arg_type),
};
static OCI_TYPE(seccomp_syscall_type, struct oci_seccomp_syscall, seccomp_syscall_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_seccomp
static const struct oci_field seccomp_fields[] = {
	F_STR_REQ("defaultAction", defaultAction),
	F_VAL_OPT("defaultErrnoRet", defaultErrnoRet, OCI_U32),
	F_ARR("architectures", architectures, OCI_STR),
	F_ARR("flags", flags, OCI_STR),
	F_STR("listenerPath", listenerPath),
	F_STR("listenerMetadata", listenerMetadata),
	F_ARR_OBJ("syscalls", syscalls, seccomp_syscall_type),
};
static OCI_TYPE(seccomp_type, struct oci_seccomp, seccomp_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_intel_rdt
static const struct oci_field intel_rdt_fields[] = {
	F_STR("closID", closID),
	F_STR("l3CacheSchema", l3CacheSchema),
	F_STR("memBwSchema", memBwSchema),
	F_ARR("schemata", schemata, OCI_STR),
	F_VAL("enableMonitoring", enableMonitoring, OCI_BOOL),
	F_VAL("enableCMT", enableCMT, OCI_BOOL),
	F_VAL("enableMBM", enableMBM, OCI_BOOL),
};
static OCI_TYPE(intel_rdt_type, struct oci_intel_rdt, intel_rdt_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_personality
static const struct oci_field personality_fields[] = {
	F_STR_REQ("domain", domain),
	F_ARR("flags", flags, OCI_STR),
};
static OCI_TYPE(personality_type, struct oci_personality, personality_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_time_offset
static const struct oci_field time_offset_fields[] = {
	F_VAL("secs", secs, OCI_I64),
	F_VAL("nanosecs", nanosecs, OCI_U32),
};
static OCI_TYPE(time_offset_type, struct oci_time_offset, time_offset_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_net_device
static const struct oci_field net_device_fields[] = {
	F_STR("name", name),
};
static OCI_TYPE(net_device_type, struct oci_net_device, net_device_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_memory_policy
static const struct oci_field memory_policy_fields[] = {
	F_STR_REQ("mode", mode),
	F_STR("nodes", nodes),
	F_ARR("flags", flags, OCI_STR),
};
static OCI_TYPE(memory_policy_type, struct oci_memory_policy, memory_policy_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_linux
static const struct oci_field linux_fields[] = {
	F_ARR_OBJ("uidMappings", uidMappings, id_mapping_type),
	F_ARR_OBJ("gidMappings", gidMappings, id_mapping_type),
	F_MAP("sysctl", sysctl, OCI_STR),
	F_OBJ("resources", resources, oci_resources_type),
	F_STR("cgroupsPath", cgroupsPath),
	F_ARR_OBJ("namespaces", namespaces, namespace_type),
	F_ARR_OBJ("devices", devices, device_type),
	F_OBJ("seccomp", seccomp, seccomp_type),
	F_STR("rootfsPropagation", rootfsPropagation),
	F_ARR("maskedPaths", maskedPaths, OCI_STR),
	F_ARR("readonlyPaths", readonlyPaths, OCI_STR),
	F_STR("mountLabel", mountLabel),
	F_OBJ("intelRdt", intelRdt, intel_rdt_type),
	F_OBJ("personality", personality, personality_type),
	F_MAP_OBJ("timeOffsets", timeOffsets, time_offset_type),
	F_MAP_OBJ("netDevices", netDevices, net_device_type),
	F_OBJ("memoryPolicy", memoryPolicy, memory_policy_type),
};
static OCI_TYPE(linux_type, struct oci_linux, linux_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_config
static const struct oci_field config_fields[] = {
	F_STR_REQ("ociVersion", ociVersion),
	F_OBJ("process", process, oci_process_type),
	F_OBJ_REQ("root", root, root_type),
	F_STR("hostname", hostname),
	F_STR("domainname", domainname),
	F_ARR_OBJ("mounts", mounts, mount_type),
	F_OBJ("hooks", hooks, hooks_type),
	F_MAP("annotations", annotations, OCI_STR),
	F_OBJ("linux", linux, linux_type),
};
OCI_TYPE(oci_config_type, struct oci_config, config_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_state
static const struct oci_field state_fields[] = {
	F_STR_REQ("ociVersion", ociVersion),
	F_STR_REQ("id", id),
	F_STR_REQ("status", status),
	F_VAL_OPT("pid", pid, OCI_I32),
	F_STR_REQ("bundle", bundle),
	F_MAP("annotations", annotations, OCI_STR),
};
OCI_TYPE(oci_state_type, struct oci_state, state_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_cgroup
static const struct oci_field features_cgroup_fields[] = {
	F_VAL_OPT("v1", v1, OCI_BOOL),
	F_VAL_OPT("v2", v2, OCI_BOOL),
	F_VAL_OPT("systemd", systemd, OCI_BOOL),
	F_VAL_OPT("systemdUser", systemdUser, OCI_BOOL),
	F_VAL_OPT("rdma", rdma, OCI_BOOL),
};
static OCI_TYPE(features_cgroup_type, struct oci_features_cgroup, features_cgroup_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_seccomp
static const struct oci_field features_seccomp_fields[] = {
	F_VAL_OPT("enabled", enabled, OCI_BOOL),
	F_ARR("actions", actions, OCI_STR),
	F_ARR("operators", operators, OCI_STR),
	F_ARR("archs", archs, OCI_STR),
	F_ARR("knownFlags", knownFlags, OCI_STR),
	F_ARR("supportedFlags", supportedFlags, OCI_STR),
};
static OCI_TYPE(features_seccomp_type, struct oci_features_seccomp, features_seccomp_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_enabled
static const struct oci_field features_enabled_fields[] = {
	F_VAL_OPT("enabled", enabled, OCI_BOOL),
};
static OCI_TYPE(features_enabled_type, struct oci_features_enabled, features_enabled_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_mount_ext
static const struct oci_field features_mount_ext_fields[] = {
	F_OBJ("idmap", idmap, features_enabled_type),
};
static OCI_TYPE(features_mount_ext_type, struct oci_features_mount_ext, features_mount_ext_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_intel_rdt
static const struct oci_field features_intel_rdt_fields[] = {
	F_VAL_OPT("enabled", enabled, OCI_BOOL),
	F_VAL_OPT("schemata", schemata, OCI_BOOL),
	F_VAL_OPT("monitoring", monitoring, OCI_BOOL),
};
static OCI_TYPE(features_intel_rdt_type, struct oci_features_intel_rdt, features_intel_rdt_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_memory_policy
static const struct oci_field features_memory_policy_fields[] = {
	F_ARR("modes", modes, OCI_STR),
	F_ARR("flags", flags, OCI_STR),
};
static OCI_TYPE(features_memory_policy_type, struct oci_features_memory_policy,
		features_memory_policy_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features_linux
static const struct oci_field features_linux_fields[] = {
	F_ARR("namespaces", namespaces, OCI_STR),
	F_ARR("capabilities", capabilities, OCI_STR),
	F_OBJ("cgroup", cgroup, features_cgroup_type),
	F_OBJ("seccomp", seccomp, features_seccomp_type),
	F_OBJ("apparmor", apparmor, features_enabled_type),
	F_OBJ("selinux", selinux, features_enabled_type),
	F_OBJ("intelRdt", intelRdt, features_intel_rdt_type),
	F_OBJ("memoryPolicy", memoryPolicy, features_memory_policy_type),
	F_OBJ("mountExtensions", mountExtensions, features_mount_ext_type),
	F_OBJ("netDevices", netDevices, features_enabled_type),
};
static OCI_TYPE(features_linux_type, struct oci_features_linux, features_linux_fields);
#undef OCI_CUR

#define OCI_CUR struct oci_features
static const struct oci_field features_fields[] = {
	F_STR_REQ("ociVersionMin", ociVersionMin),
	F_STR_REQ("ociVersionMax", ociVersionMax),
	F_ARR("hooks", hooks, OCI_STR),
	F_ARR("mountOptions", mountOptions, OCI_STR),
	F_OBJ("linux", linux, features_linux_type),
	F_MAP("annotations", annotations, OCI_STR),
	F_ARR("potentiallyUnsafeConfigAnnotations", potentiallyUnsafeConfigAnnotations, OCI_STR),
};
OCI_TYPE(oci_features_type, struct oci_features, features_fields);
#undef OCI_CUR

int oci_check_version(const char *source, const char *version, struct husk_error *err)
{
	/* Every 1.x is accepted: minor versions only add optional fields. */
	if (strncmp(version, "1.", 2) != 0 || version[2] < '0' || version[2] > '9') {
		/* quoted: control characters of a hostile config stay out of logs */
		char quoted[6 * 40 + 8]; /* every byte may become \u00XX */
		json_quote(version, strlen(version), 40, quoted, sizeof(quoted));
		return err_set(err, EINVAL, "%s: ociVersion: unsupported version %s (husk supports 1.x)",
			       source, quoted);
	}
	return 0;
}

int oci_config_load(int bundle_fd, struct oci_config **out, struct husk_error *err)
{
	struct oci_config *cfg = NULL;
	int r = oci_decode_file(&oci_config_type, bundle_fd, "config.json", "config.json", (void **)&cfg,
				err);
	if (r < 0)
		return r;
	r = oci_check_version("config.json", cfg->ociVersion, err);
	if (r < 0) {
		oci_free(&oci_config_type, cfg);
		return r;
	}
	*out = cfg;
	return 0;
}
