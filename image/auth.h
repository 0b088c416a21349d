/* Registry credentials and authentication challenges (for registry.c). */
#ifndef HUSK_IMAGE_AUTH_H
#define HUSK_IMAGE_AUTH_H

#include "common/error.h"

struct creds {
	char *user;
	char *pass;
};

/* --creds USER:PASS, else the first auth file that has host:
 * authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json, ~/.docker/config.json. No credentials
 * found is not an error (anonymous). */
int creds_find(const char *creds_opt, const char *authfile, const char *host, struct creds *out,
	       struct husk_error *err);
void creds_free(struct creds *c);

/* A parsed WWW-Authenticate header: "Bearer realm=...,service=...". */
struct challenge {
	char scheme[16]; /* "basic" or "bearer", lowercased */
	char *realm;
	char *service;
	char *scope;
};
int challenge_parse(const char *header, struct challenge *out, struct husk_error *err);
void challenge_free(struct challenge *c);

/* Decode a token endpoint response ({"token":..} or {"access_token":..}). */
int token_parse(const char *json, size_t len, char **token, struct husk_error *err);
/* "Authorization: Basic base64(user:pass)" */
int basic_auth_header(const struct creds *c, char **out);

#endif
