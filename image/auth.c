/* Credentials from --creds or the auth files podman and docker write, and
 * the WWW-Authenticate challenges of the distribution spec. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "image/auth.h"
#include "oci-spec/schema.h"

struct auth_entry {
	char *auth;
	char *username;
	char *password;
};
struct auth_file {
	OCI_MAP(struct auth_entry) auths;
};

#define OCI_CUR struct auth_entry
static const struct oci_field auth_entry_fields[] = {
	F_STR("auth", auth),
	F_STR("username", username),
	F_STR("password", password),
};
static OCI_TYPE(auth_entry_type, struct auth_entry, auth_entry_fields);
#undef OCI_CUR

#define OCI_CUR struct auth_file
static const struct oci_field auth_file_fields[] = {
	F_MAP_OBJ("auths", auths, auth_entry_type),
};
static OCI_TYPE(auth_file_type, struct auth_file, auth_file_fields);
#undef OCI_CUR

/* Longer than any token a registry hands out (JWTs of a few KiB). */
#define TOKEN_MAX (64 * 1024)

struct token_response {
	char *token;
	char *access_token;
};
#define OCI_CUR struct token_response
static const struct oci_field token_fields[] = {
	F_STR("token", token),
	F_STR("access_token", access_token),
};
static OCI_TYPE(token_type, struct token_response, token_fields);
#undef OCI_CUR

void creds_free(struct creds *c)
{
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	c->user = c->pass = NULL;
}

static int split_user_pass(const char *s, size_t len, struct creds *out)
{
	const char *colon = memchr(s, ':', len);
	if (colon == NULL || colon == s)
		return -EINVAL;
	out->user = strndup(s, (size_t)(colon - s));
	out->pass = strndup(colon + 1, len - (size_t)(colon - s) - 1);
	if (out->user == NULL || out->pass == NULL) {
		creds_free(out);
		return -ENOMEM;
	}
	return 0;
}

/* The keys an auth file may use for host: "host", "https://host",
 * "http://host", "https://host/v1/" (docker's legacy form). */
static bool key_matches(const char *key, const char *host)
{
	size_t hl = strlen(host);
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	if (strncmp(key, host, hl) != 0)
		return false;
	return key[hl] == '\0' || strcmp(key + hl, "/") == 0 || strcmp(key + hl, "/v1/") == 0 ||
	       strcmp(key + hl, "/v2/") == 0;
}

static int from_file(const char *path, const char *host, struct creds *out, struct husk_error *err)
{
	struct auth_file *f = NULL;
	int r = oci_decode_file(&auth_file_type, AT_FDCWD, path, path, (void **)&f, err);
	if (r == -ENOENT) {
		err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->auths.len && out->user == NULL; i++) {
		const struct auth_entry *e = &f->auths.values[i];
		if (!key_matches(f->auths.keys[i], host))
			continue;
		if (e->auth && *e->auth) {
			size_t in = strlen(e->auth);
			_cleanup_free_ unsigned char *dec = malloc(in / 4 * 3 + 4);
			int n = dec ? EVP_DecodeBlock(dec, (const unsigned char *)e->auth, (int)in)
				    : -1;
			if (n < 0 || in % 4 != 0) {
				r = err_set(err, EINVAL, "%s: auths[\"%s\"].auth is not base64",
					    path, f->auths.keys[i]);
				break;
			}
			/* EVP_DecodeBlock counts the padding as zero bytes */
			for (size_t k = in; k > 0 && e->auth[k - 1] == '='; k--)
				n--;
			r = split_user_pass((const char *)dec, (size_t)n, out);
			explicit_bzero(dec, in / 4 * 3 + 4);
			if (r < 0)
				r = err_set(err, EINVAL, "%s: auths[\"%s\"].auth is not USER:PASS",
					    path, f->auths.keys[i]);
		} else if (e->username && e->password) {
			out->user = strdup(e->username);
			out->pass = strdup(e->password);
			if (out->user == NULL || out->pass == NULL)
				r = err_sys(err, ENOMEM, "%s", path);
		}
	}
	oci_free(&auth_file_type, f);
	return r;
}

int creds_find(const char *creds_opt, const char *authfile, const char *host, struct creds *out,
	       struct husk_error *err)
{
	*out = (struct creds){ 0 };
	if (creds_opt) {
		if (split_user_pass(creds_opt, strlen(creds_opt), out) < 0)
			return err_set(err, EINVAL, "--creds: expected USER:PASSWORD");
		return 0;
	}
	if (authfile)
		return from_file(authfile, host, out, err);

	const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR"),
		   *home = getenv("HOME");
	char *paths[4] = { NULL };
	int n = 0, r = 0;
	if (env && *env)
		r = str_fmt(&paths[n++], PATH_MAX, err, "$REGISTRY_AUTH_FILE", "%s", env);
	if (r == 0 && xdg && *xdg)
		r = str_fmt(&paths[n++], PATH_MAX, err, "$XDG_RUNTIME_DIR",
			    "%s/containers/auth.json", xdg);
	if (r == 0 && home && *home) {
		r = str_fmt(&paths[n++], PATH_MAX, err, "$HOME", "%s/.config/containers/auth.json",
			    home);
		if (r == 0)
			r = str_fmt(&paths[n++], PATH_MAX, err, "$HOME", "%s/.docker/config.json",
				    home);
	}
	for (int i = 0; r == 0 && i < n && out->user == NULL; i++)
		r = from_file(paths[i], host, out, err);
	for (int i = 0; i < n; i++)
		free(paths[i]);
	return r;
}

void challenge_free(struct challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	*c = (struct challenge){ 0 };
}

int challenge_parse(const char *header, struct challenge *out, struct husk_error *err)
{
	const char *p = header;
	size_t n = 0;

	*out = (struct challenge){ 0 };
	while (*p == ' ')
		p++;
	while (isalpha((unsigned char)*p) && n < sizeof(out->scheme) - 1)
		out->scheme[n++] = (char)tolower((unsigned char)*p++);
	if (strcmp(out->scheme, "basic") != 0 && strcmp(out->scheme, "bearer") != 0)
		return err_set(err, ENOTSUP, "unsupported authentication scheme in \"%s\"", header);
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *key = p;
		while (*p && *p != '=' && *p != ' ' && *p != ',')
			p++;
		size_t klen = (size_t)(p - key);
		if (*p != '=')
			continue;
		p++;
		char value[2048];
		size_t vlen = 0;
		if (*p == '"') {
			p++;
			while (*p && *p != '"' && vlen < sizeof(value) - 1) {
				if (*p == '\\' && p[1])
					p++;
				value[vlen++] = *p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != ' ' && vlen < sizeof(value) - 1)
				value[vlen++] = *p++;
		}
		value[vlen] = '\0';
		if (vlen == sizeof(value) - 1 && *p && *p != '"' && *p != ',' && *p != ' ') {
			challenge_free(out);
			return err_set(err, EINVAL,
				       "WWW-Authenticate: a value longer than %zu bytes: refused",
				       sizeof(value) - 1);
		}
		char **slot = NULL;
		if (klen == 5 && strncasecmp(key, "realm", 5) == 0)
			slot = &out->realm;
		else if (klen == 7 && strncasecmp(key, "service", 7) == 0)
			slot = &out->service;
		else if (klen == 5 && strncasecmp(key, "scope", 5) == 0)
			slot = &out->scope;
		if (slot && *slot == NULL && (*slot = strdup(value)) == NULL) {
			challenge_free(out);
			return err_sys(err, ENOMEM, "WWW-Authenticate");
		}
	}
	if (strcmp(out->scheme, "bearer") == 0 && (out->realm == NULL || *out->realm == '\0')) {
		challenge_free(out);
		return err_set(err, EINVAL, "bearer challenge without a realm: \"%s\"", header);
	}
	return 0;
}

int token_parse(const char *json, size_t len, char **token, struct husk_error *err)
{
	struct token_response *t = NULL;
	int r = oci_decode(&token_type, json, len, "token response", (void **)&t, err);
	if (r < 0)
		return r;
	const char *value = t->token && *t->token ? t->token : t->access_token;
	/* it goes into a header line: RFC 6750's b64token characters only, so
	 * that no CR/LF (or space) can add headers of its own */
	size_t ok = value ? strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789-._~+/=")
			  : 0;
	if (value == NULL || *value == '\0')
		r = err_set(err, EINVAL, "token response: no token in it");
	else if (value[ok] != '\0')
		r = err_set(err, EPROTO,
			    "token response: the token holds %s (byte 0x%02x at offset %zu): refused",
			    (unsigned char)value[ok] < 0x20 || value[ok] == 0x7f
				    ? "a control character"
				    : "a character a token cannot hold",
			    (unsigned char)value[ok], ok);
	else if (strlen(value) > TOKEN_MAX)
		r = err_set(err, EFBIG, "token response: the token is %zu bytes long (the limit is %d)",
			    strlen(value), TOKEN_MAX);
	else if ((*token = strdup(value)) == NULL)
		r = err_sys(err, ENOMEM, "token");
	oci_free(&token_type, t);
	return r;
}

int basic_auth_header(const struct creds *c, char **out)
{
	_cleanup_free_ char *plain = NULL;
	if (asprintf(&plain, "%s:%s", c->user, c->pass) < 0)
		return -ENOMEM;
	size_t len = strlen(plain);
	_cleanup_free_ unsigned char *enc = malloc(4 * ((len + 2) / 3) + 1);
	if (enc == NULL)
		return -ENOMEM;
	EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)len);
	explicit_bzero(plain, len);
	if (asprintf(out, "Authorization: Basic %s", enc) < 0)
		return -ENOMEM;
	return 0;
}
