/* The default config.json that "husk spec" writes and that husk-image
 * starts from when it converts an image config. */
#ifndef HUSK_OCI_DEFAULT_CONFIG_H
#define HUSK_OCI_DEFAULT_CONFIG_H

#include <stdbool.h>

#include "oci-spec/runtime-spec.h"

/* A newly allocated default config; rootless makes it runnable by an
 * unprivileged user. Free with oci_free(&oci_config_type, ...). */
int oci_default_config(bool rootless, struct oci_config **out, struct husk_error *err);

/* Remove every linux.namespaces entry of that type. */
void oci_config_drop_namespace(struct oci_config *cfg, const char *type);

#endif
