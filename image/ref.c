/* Image references: docker://HOST[:PORT]/NAME[:TAG|@DIGEST], oci:DIR[:TAG]
 * and the names the store lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define REF_NAME_MAX 255

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 ||
	    !(t[0] == '_' || (t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') ||
	      (t[0] >= '0' && t[0] <= '9')))
		return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* distribution-spec: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+(...)*)* */
static bool valid_repo(const char *r)
{
	const char *p = r;
	if (*p == '\0')
		return false;
	while (*p) {
		const char *start = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			p++;
		if (p == start)
			return false;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return false;
			continue;
		}
		if (*p == '.' || *p == '_' || *p == '-') {
			while (*p == '-' || *p == '_' || *p == '.')
				p++;
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
				return false;
			continue;
		}
		if (*p)
			return false;
	}
	return true;
}

static int oom(struct husk_error *err, const char *text)
{
	return err_sys(err, ENOMEM, "%s", text);
}

static int parse_docker(const char *text, const char *rest, struct image_ref *ref,
			struct husk_error *err)
{
	const char *slash = strchr(rest, '/');
	if (slash == NULL || slash == rest)
		return err_set(err, EINVAL, "%s: expected docker://HOST[:PORT]/NAME[:TAG|@DIGEST]",
			       text);
	ref->host = strndup(rest, (size_t)(slash - rest));
	const char *name = slash + 1;
	const char *at = strchr(name, '@');
	char *repo;
	if (at) {
		repo = strndup(name, (size_t)(at - name));
		ref->digest = strdup(at + 1);
		if (repo == NULL || ref->digest == NULL)
			return free(repo), oom(err, text);
		if (!oci_digest_valid(ref->digest)) {
			free(repo);
			return err_set(err, EINVAL, "%s: \"%s\" is not a sha256 digest", text,
				       ref->digest);
		}
	} else {
		const char *colon = strrchr(name, ':');
		if (colon && strchr(colon, '/') == NULL) {
			repo = strndup(name, (size_t)(colon - name));
			ref->tag = strdup(colon + 1);
		} else {
			repo = strdup(name);
			ref->tag = strdup("latest");
		}
		if (repo == NULL || ref->tag == NULL)
			return free(repo), oom(err, text);
		if (!valid_tag(ref->tag)) {
			free(repo);
			return err_set(err, EINVAL, "%s: \"%s\" is not a valid tag", text,
				       ref->tag);
		}
	}
	ref->repo = repo;
	if (ref->host == NULL)
		return oom(err, text);
	if (!valid_repo(ref->repo))
		return err_set(err, EINVAL, "%s: \"%s\" is not a valid repository name", text,
			       ref->repo);
	/* distribution-spec: clients may limit HOST/NAME to 255 characters;
	 * bounded here, every URL built from it fits */
	if (strlen(ref->host) + 1 + strlen(ref->repo) > REF_NAME_MAX)
		return err_set(err, EINVAL, "%.300s...: HOST/NAME is %zu characters long (the limit is %d)",
			       text, strlen(ref->host) + 1 + strlen(ref->repo), REF_NAME_MAX);
	if (strspn(ref->host,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
	    strlen(ref->host))
		return err_set(err, EINVAL, "%s: \"%s\" is not a valid registry host", text,
			       ref->host);
	if (asprintf(&ref->name, "%s/%s%s%s", ref->host, ref->repo, ref->digest ? "@" : ":",
		     ref->digest ? ref->digest : ref->tag) < 0) {
		ref->name = NULL;
		return oom(err, text);
	}
	return 0;
}

int ref_parse(const char *text, struct image_ref *ref, struct husk_error *err)
{
	int r;
	*ref = (struct image_ref){ 0 };
	if (strncmp(text, "docker://", 9) == 0) {
		ref->kind = REF_DOCKER;
		r = parse_docker(text, text + 9, ref, err);
	} else if (strncmp(text, "oci:", 4) == 0) {
		ref->kind = REF_OCI;
		const char *rest = text + 4;
		const char *colon = strrchr(rest, ':');
		if (colon && strchr(colon, '/') == NULL) {
			ref->dir = strndup(rest, (size_t)(colon - rest));
			ref->tag = strdup(colon + 1);
		} else {
			ref->dir = strdup(rest);
			ref->tag = strdup("latest");
		}
		if (ref->dir == NULL || ref->tag == NULL)
			r = oom(err, text);
		else if (ref->dir[0] == '\0')
			r = err_set(err, EINVAL, "%s: expected oci:DIR[:TAG]", text);
		else if (!valid_tag(ref->tag))
			r = err_set(err, EINVAL, "%s: \"%s\" is not a valid tag", text, ref->tag);
		else
			r = (ref->name = strdup(ref->tag)) ? 0 : oom(err, text);
	} else if (*text == '\0') {
		r = err_set(err, EINVAL, "an empty image reference");
	} else {
		ref->kind = REF_NAME;
		r = (ref->name = strdup(text)) ? 0 : oom(err, text);
	}
	if (r < 0)
		ref_free(ref);
	return r;
}

void ref_free(struct image_ref *ref)
{
	free(ref->host);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
	free(ref->dir);
	free(ref->name);
	*ref = (struct image_ref){ 0 };
}
