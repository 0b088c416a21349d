/* The registry client: distribution-spec HTTP API v2 over libcurl.
 * A pull resolves the tag to a manifest (choosing a platform from an
 * index), fetches the config and layers in parallel with curl's multi
 * interface, streams each blob into the store while hashing it, and tags
 * the manifest in index.json only once everything it references is in. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/fileutil.h"
#include "common/log.h"
#include "image/auth.h"
#include "image/image.h"

#define ACCEPT_MANIFESTS                                                                           \
	"Accept: " OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " DOCKER_MT_MANIFEST                       \
	", " DOCKER_MT_MANIFEST_LIST

struct client {
	const struct image_ref *ref;
	const struct registry_opts *o;
	char base[600]; /* scheme://host */
	char *auth;     /* "Authorization: ..." or NULL */
	struct creds creds;
	bool authenticated;
	unsigned auth_gen;   /* bumped by every authenticate() */
	unsigned reauths;    /* tokens fetched again after expiring mid-pull */
	struct curl_blob ca; /* --cert-dir's *.crt, concatenated */
	char source[700];    /* host/repository: whose .partial files are ours */
};

/* A token that expires mid-pull is fetched again; a registry that keeps
 * refusing fresh ones is not asked forever. */
#define MAX_REAUTH 8

/* Default deadlines of one request, in seconds (--timeout sets both). */
#define DEFAULT_TIMEOUT      300
#define DEFAULT_BLOB_TIMEOUT 3600

struct response {
	long status;
	char *body;
	size_t len, max;
	bool too_big;
	char content_type[256];
	char *www_auth;
};

static void response_free(struct response *r)
{
	free(r->body);
	free(r->www_auth);
	*r = (struct response){ 0 };
}

static size_t body_cb(char *data, size_t size, size_t n, void *opaque)
{
	struct response *r = opaque;
	size_t len = size * n;
	if (r->len + len > r->max) {
		r->too_big = true;
		return 0;
	}
	char *grown = realloc(r->body, r->len + len + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + r->len, data, len);
	r->body = grown;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void trim_value(char *dst, size_t cap, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	snprintf(dst, cap, "%.*s", (int)len, v);
}

static size_t header_cb(char *data, size_t size, size_t n, void *opaque)
{
	struct response *r = opaque;
	size_t len = size * n;
	/* a redirect's headers come first: keep only the final response's */
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->content_type[0] = '\0';
		free(r->www_auth);
		r->www_auth = NULL;
	} else if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
		trim_value(r->content_type, sizeof(r->content_type), data + 13, len - 13);
		char *semi = strchr(r->content_type, ';');
		if (semi)
			*semi = '\0';
	} else if (len > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0 &&
		   r->www_auth == NULL) {
		r->www_auth = malloc(len);
		if (r->www_auth)
			trim_value(r->www_auth, len, data + 17, len - 17);
	}
	return len;
}

static bool is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0;
}

/* The deadline of one request: --timeout, else a default that a honest
 * registry never reaches (blobs may be gigabytes on a slow link). */
static long request_timeout(const struct client *c, bool blob)
{
	if (c->o->timeout > 0)
		return c->o->timeout;
	return blob ? DEFAULT_BLOB_TIMEOUT : DEFAULT_TIMEOUT;
}

static void setup_easy(struct client *c, CURL *h, const char *url, struct curl_slist *headers,
		       bool blob)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* what was asked over HTTPS stays on HTTPS: a redirect to plain
	 * HTTP would let anyone on the path answer for the registry */
	const char *protocols = is_https(url) ? "https" : "http,https";
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 8L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer fails, and one that drips stops at its deadline */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, request_timeout(c, blob));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "husk-image/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->o->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->o->tls_verify ? 2L : 0L);
	if (c->ca.data)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &c->ca);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
}

static struct curl_slist *make_headers(struct client *c, const char *accept)
{
	struct curl_slist *list = NULL, *next;
	if (accept) {
		if ((next = curl_slist_append(list, accept)) == NULL)
			goto oom;
		list = next;
	}
	if (c->auth) {
		if ((next = curl_slist_append(list, c->auth)) == NULL)
			goto oom;
		list = next;
	}
	return list;
oom:
	curl_slist_free_all(list);
	return NULL;
}

/* Why a transfer failed, in the user's terms. */
static int transfer_error(struct client *c, CURL *h, CURLcode cc, const char *url, bool blob,
			  struct husk_error *err)
{
	char *redirect = NULL;
	/* a refused redirect leaves the handle at the URL it refused (or
	 * still pointing to it) */
	if (cc == CURLE_UNSUPPORTED_PROTOCOL &&
	    ((curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect) ||
	     (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &redirect) == CURLE_OK && redirect &&
	      strcmp(redirect, url) != 0)))
		return err_set(err, EPROTO,
			       "GET %s: the registry redirects to %.300s: refused (a request made "
			       "over HTTPS is not followed to plain HTTP)",
			       url, redirect);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return err_set(err, ETIMEDOUT,
			       "GET %s: no complete answer within %ld seconds (--timeout): %s", url,
			       request_timeout(c, blob), curl_easy_strerror(cc));
	int code = cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ? EPROTO
		   : cc == CURLE_COULDNT_CONNECT					 ? ECONNREFUSED
											 : EIO;
	return err_set(err, code, "GET %s: %s", url, curl_easy_strerror(cc));
}

/* One GET into memory. A transport failure is an error; an HTTP error
 * status is left to the caller. */
static int get(struct client *c, const char *url, const char *accept, size_t max,
	       const struct creds *basic, struct response *resp, struct husk_error *err)
{
	*resp = (struct response){ .max = max };
	CURL *h = curl_easy_init();
	if (h == NULL)
		return err_sys(err, ENOMEM, "curl");
	struct curl_slist *headers = make_headers(c, accept);
	setup_easy(c, h, url, headers, false);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (basic && basic->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, basic->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, basic->pass);
	}
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	int r = 0;
	if (resp->too_big)
		r = err_set(err, EFBIG, "GET %s: the response is larger than %zu bytes", url, max);
	else if (cc != CURLE_OK)
		r = transfer_error(c, h, cc, url, false, err);
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	return r;
}

static int authenticate(struct client *c, const char *www_auth, struct husk_error *err)
{
	struct challenge ch;
	int r = challenge_parse(www_auth, &ch, err);
	if (r < 0)
		return err_prefix(err, "%s", c->ref->host);
	free(c->auth);
	c->auth = NULL;
	if (strcmp(ch.scheme, "basic") == 0) {
		challenge_free(&ch);
		if (c->creds.user == NULL)
			return err_set(err, EACCES,
				       "%s: the registry wants a user name and password (use "
				       "--creds or an auth file)",
				       c->ref->host);
		if (basic_auth_header(&c->creds, &c->auth) < 0)
			return err_sys(err, ENOMEM, "auth");
		c->authenticated = true;
		c->auth_gen++;
		return 0;
	}

	/* the token server gets the credentials: never over a weaker scheme
	 * than the registry's, nor to anything but http(s) */
	bool realm_https = is_https(ch.realm);
	if (!realm_https && strncasecmp(ch.realm, "http://", 7) != 0)
		r = err_set(err, EPROTO,
			    "%s: the registry's token realm \"%.300s\" is not an http(s) URL: refused",
			    c->ref->host, ch.realm);
	else if (!realm_https && c->o->tls_verify && is_https(c->base))
		r = err_set(err, EPROTO,
			    "%s: the registry (HTTPS) sends for tokens to the plain-HTTP realm %.300s: "
			    "refused, the credentials would travel in clear text (--tls-verify=false "
			    "allows it)",
			    c->ref->host, ch.realm);
	else if (str_has_ctl(ch.realm) || strpbrk(ch.realm, " \"<>\\") ||
		 (ch.service && str_has_ctl(ch.service)))
		r = err_set(err, EPROTO,
			    "%s: the registry's token realm or service holds control characters or "
			    "spaces: refused",
			    c->ref->host);
	if (r < 0) {
		challenge_free(&ch);
		return r;
	}
	CURL *esc = curl_easy_init();
	char *service = esc && ch.service ? curl_easy_escape(esc, ch.service, 0) : NULL;
	char *scope_raw = NULL, *scope = NULL, *url = NULL;
	if (asprintf(&scope_raw, "repository:%s:pull", c->ref->repo) >= 0 && esc)
		scope = curl_easy_escape(esc, scope_raw, 0);
	if (scope == NULL || (ch.service && service == NULL) ||
	    asprintf(&url, "%s%sscope=%s%s%s", ch.realm, strchr(ch.realm, '?') ? "&" : "?", scope,
		     service ? "&service=" : "", service ? service : "") < 0) {
		url = NULL;
		r = err_sys(err, ENOMEM, "auth");
	}
	curl_free(service);
	curl_free(scope);
	free(scope_raw);
	curl_easy_cleanup(esc);
	challenge_free(&ch);
	if (r < 0)
		return r;

	struct response resp;
	char *saved = c->auth;
	c->auth = NULL; /* the token endpoint gets basic auth, not the old token */
	r = get(c, url, NULL, 1 << 20, &c->creds, &resp, err);
	c->auth = saved;
	if (r == 0 && resp.status != 200)
		r = err_set(err, resp.status == 401 || resp.status == 403 ? EACCES : EIO,
			    "%s: the token server %s answered HTTP %ld%s", c->ref->host, url,
			    resp.status, c->creds.user ? " (are the credentials right?)" : "");
	char *token = NULL;
	if (r == 0)
		r = token_parse(resp.body ? resp.body : "", resp.len, &token, err);
	if (r < 0 && resp.status == 200)
		err_prefix(err, "%s: the token server %s", c->ref->host, url);
	if (r == 0) {
		if (asprintf(&c->auth, "Authorization: Bearer %s", token) < 0) {
			c->auth = NULL;
			r = err_sys(err, ENOMEM, "auth");
		}
		free(token);
		c->authenticated = true;
		c->auth_gen++;
	}
	response_free(&resp);
	free(url);
	return r;
}

/* GET with one retry after answering a 401 challenge (the first one, or
 * a token that expired since). */
static int get_authed(struct client *c, const char *url, const char *accept, size_t max,
		      struct response *resp, struct husk_error *err)
{
	int r = get(c, url, accept, max, NULL, resp, err);
	if (r < 0 || resp->status != 401 || resp->www_auth == NULL)
		return r;
	if (c->authenticated && c->reauths++ >= MAX_REAUTH)
		return r;
	r = authenticate(c, resp->www_auth, err);
	response_free(resp);
	if (r < 0)
		return r;
	return get(c, url, accept, max, NULL, resp, err);
}

/* Find the scheme (HTTPS, or HTTP when verification is off and TLS does
 * not answer) and authenticate early when /v2/ asks for it. */
static int ping(struct client *c, struct husk_error *err)
{
	struct response resp;
	char url[700];
	snprintf(c->base, sizeof(c->base), "https://%s", c->ref->host);
	snprintf(url, sizeof(url), "%s/v2/", c->base);
	int r = get(c, url, NULL, 1 << 16, NULL, &resp, err);
	if (r < 0 && !c->o->tls_verify && (r == -EPROTO || r == -EIO)) {
		log_debug("%s: no TLS (%s), trying plain HTTP", c->ref->host, err->msg);
		response_free(&resp);
		snprintf(c->base, sizeof(c->base), "http://%s", c->ref->host);
		snprintf(url, sizeof(url), "%s/v2/", c->base);
		r = get(c, url, NULL, 1 << 16, NULL, &resp, err);
	}
	if (r < 0) {
		response_free(&resp);
		if (r == -EPROTO)
			return err_prefix(err,
					  "%s (for a registry without a trusted certificate use "
					  "--tls-verify=false)",
					  c->ref->host);
		return r;
	}
	if (resp.status == 401 && resp.www_auth)
		r = authenticate(c, resp.www_auth, err);
	else if (resp.status != 200 && resp.status != 401)
		r = err_set(err, EPROTO, "%s: GET /v2/ answered HTTP %ld: not a registry (API v2)",
			    c->ref->host, resp.status);
	response_free(&resp);
	return r;
}

static int http_error(struct client *c, const char *what, const struct response *resp,
		      struct husk_error *err)
{
	if (resp->status == 404)
		return err_set(err, ENOENT, "%s/%s: %s not found (HTTP 404)", c->ref->host,
			       c->ref->repo, what);
	if (resp->status == 401 || resp->status == 403)
		return err_set(err, EACCES, "%s/%s: %s: access denied (HTTP %ld)", c->ref->host,
			       c->ref->repo, what, resp->status);
	return err_set(err, EIO, "%s/%s: %s: HTTP %ld", c->ref->host, c->ref->repo, what,
		       resp->status);
}

/* Fetch a manifest or index by tag or digest; check it against want_digest
 * when the reference pins one. */
static int fetch_manifest(struct client *c, const char *reference, const char *want_digest,
			  struct response *resp, char digest[DIGEST_LEN + 1],
			  enum oci_doc_kind *kind, struct husk_error *err)
{
	char url[1200];
	snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", c->base, c->ref->repo, reference);
	int r = get_authed(c, url, ACCEPT_MANIFESTS, IMAGE_JSON_MAX, resp, err);
	if (r < 0)
		return r;
	if (resp->status != 200) {
		char what[300];
		snprintf(what, sizeof(what), "manifest %s", reference);
		return http_error(c, what, resp, err);
	}
	digest_buffer(resp->body ? resp->body : "", resp->len, digest);
	if (want_digest && strcmp(digest, want_digest) != 0)
		return err_set(err, EIO, "manifest %s: digest mismatch: expected %s, got %s",
			       reference, want_digest, digest);

	*kind = oci_media_type_kind(resp->content_type);
	struct oci_manifest_probe *probe = NULL;
	r = oci_decode(&oci_manifest_probe_type, resp->body ? resp->body : "", resp->len, reference,
		       (void **)&probe, err);
	if (r < 0)
		return r;
	if (*kind == OCI_DOC_UNKNOWN) {
		/* a generic Content-Type: the document's own mediaType decides */
		*kind = oci_media_type_kind(probe->mediaType);
		if (*kind != OCI_DOC_UNKNOWN)
			snprintf(resp->content_type, sizeof(resp->content_type), "%s",
				 probe->mediaType);
	}
	if (*kind == OCI_DOC_UNKNOWN)
		*kind = probe->manifests.items ? OCI_DOC_INDEX
			: probe->config        ? OCI_DOC_MANIFEST
					       : OCI_DOC_UNKNOWN;
	oci_free(&oci_manifest_probe_type, probe);
	if (*kind == OCI_DOC_UNKNOWN)
		return err_set(err, EINVAL, "manifest %s: unsupported media type \"%s\"", reference,
			       resp->content_type);
	return 0;
}

/* ---- parallel blob download ---- */

struct transfer {
	const struct oci_descriptor *desc;
	CURL *h;
	struct curl_slist *headers;
	struct blob_writer w;
	struct store *s;
	long status;
	int64_t offset;      /* asked for the blob from here (an interrupted pull's part) */
	int64_t range_start; /* a 206's Content-Range start, -1 when none */
	char *www_auth;      /* a 401's challenge */
	char url[1200];      /* what was asked for (before any redirect) */
	unsigned auth_gen;   /* the token it was sent with */
	int write_error;
	bool done;
	bool restarted; /* a continued download failed its check: fetched whole */
};

static size_t blob_cb(char *data, size_t size, size_t n, void *opaque)
{
	struct transfer *t = opaque;
	size_t len = size * n;
	if (t->status == 0) {
		curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->status);
		int r = 0;
		if (t->status == 200 && t->w.written > 0)
			r = blob_writer_restart(&t->w); /* the whole blob after all */
		else if (t->status == 206 && t->range_start != t->offset)
			r = -EPROTO; /* not the part we asked for */
		if (r < 0) {
			t->write_error = r;
			return 0;
		}
	}
	if (t->status != 200 && t->status != 206)
		return len; /* an error body: dropped */
	int r = blob_writer_write(&t->w, data, len);
	if (r < 0) {
		t->write_error = r;
		return 0;
	}
	return len;
}

static size_t blob_header_cb(char *data, size_t size, size_t n, void *opaque)
{
	struct transfer *t = opaque;
	size_t len = size * n;
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		t->status = 0; /* a new response (after a redirect) */
		t->range_start = -1;
		free(t->www_auth);
		t->www_auth = NULL;
	} else if (len > 20 && strncasecmp(data, "Content-Range: bytes ", 21) == 0) {
		char value[64];
		trim_value(value, sizeof(value), data + 21, len - 21);
		char *end;
		long long start = strtoll(value, &end, 10);
		t->range_start = end != value && *end == '-' ? start : -1;
	} else if (len > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0 &&
		   t->www_auth == NULL) {
		t->www_auth = malloc(len);
		if (t->www_auth)
			trim_value(t->www_auth, len, data + 17, len - 17);
	}
	return len;
}

static int start_transfer(struct client *c, struct transfer *t, CURLM *multi,
			  struct husk_error *err)
{
	char *url = t->url;
	snprintf(t->url, sizeof(t->url), "%s/v2/%s/blobs/%s", c->base, c->ref->repo,
		 t->desc->digest);
	int r = blob_writer_resume(t->s, &t->w, t->desc->digest, t->desc->size, c->source, err);
	if (r < 0)
		return r;
	t->offset = t->w.written;
	t->status = 0;
	t->auth_gen = c->auth_gen;
	t->h = curl_easy_init();
	if (t->h == NULL)
		return err_sys(err, ENOMEM, "curl");
	t->headers = make_headers(c, NULL);
	setup_easy(c, t->h, url, t->headers, true);
	curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, blob_cb);
	curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->h, CURLOPT_HEADERFUNCTION, blob_header_cb);
	curl_easy_setopt(t->h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->h, CURLOPT_PRIVATE, t);
	if (t->offset > 0) {
		char range[32];
		snprintf(range, sizeof(range), "%lld-", (long long)t->offset);
		log_debug("blob %s: continuing an interrupted download at byte %s", t->desc->digest,
			  range);
		curl_easy_setopt(t->h, CURLOPT_RANGE, range);
	}
	if (curl_multi_add_handle(multi, t->h) != CURLM_OK)
		return err_set(err, EIO, "curl: cannot add a transfer");
	return 0;
}

/* 0: the blob is in; 1: start it again (with a fresh token); or -errno. */
static int finish_transfer(struct client *c, struct transfer *t, CURLcode cc,
			   struct husk_error *err)
{
	int r = 0;
	long status = 0;
	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK && status == 401 && t->www_auth && c->reauths < MAX_REAUTH) {
		/* the token expired mid-pull: one transfer fetches a new one,
		 * the others that were sent with the old one just go again */
		if (t->auth_gen == c->auth_gen) {
			c->reauths++;
			log_debug("blob %s: HTTP 401, asking for a new token", t->desc->digest);
			r = authenticate(c, t->www_auth, err);
		}
		blob_writer_suspend(t->s, &t->w);
		return r < 0 ? r : 1;
	}
	t->done = true;
	bool broken = false; /* the transfer broke: keep the part for the next pull */
	if (t->write_error == -EFBIG)
		r = err_set(err, EIO,
			    "blob %s: the registry sent more than the %lld bytes the manifest says",
			    t->desc->digest, (long long)t->desc->size);
	else if (t->write_error == -EPROTO)
		r = err_set(err, EPROTO,
			    "blob %s: asked for the bytes from %lld on, the registry sent another "
			    "range",
			    t->desc->digest, (long long)t->offset);
	else if (t->write_error < 0)
		r = err_sys(err, -t->write_error, "blob %s: write to the store", t->desc->digest);
	else if (cc != CURLE_OK) {
		transfer_error(c, t->h, cc, t->url, true, err);
		r = err_prefix(err, "blob %s", t->desc->digest);
		broken = true;
	} else if (status != 200 && status != 206) {
		char what[128];
		snprintf(what, sizeof(what), "blob %s", t->desc->digest);
		struct response fake = { .status = status };
		r = http_error(c, what, &fake, err);
	}
	if (r < 0 && broken)
		blob_writer_suspend(t->s, &t->w);
	else if (r < 0)
		blob_writer_abort(t->s, &t->w);
	else
		r = blob_writer_commit(t->s, &t->w, t->desc->digest, t->desc->size, err);
	if (r < 0 && !broken && t->offset > 0 && !t->restarted) {
		/* continued from a part an earlier pull left, and wrong: the part
		 * was (commit and abort removed it); fetch it whole, once */
		log_warn("blob %s: the download continued from byte %lld failed (%s); fetching it "
			 "again from byte 0",
			 t->desc->digest, (long long)t->offset, err->msg);
		err_clear(err);
		t->restarted = true;
		t->done = false;
		return 1;
	}
	return r;
}

/* Let go of a transfer's curl handle and headers. */
static void release_transfer(CURLM *multi, struct transfer *t)
{
	if (t->h) {
		curl_multi_remove_handle(multi, t->h);
		curl_easy_cleanup(t->h);
	}
	curl_slist_free_all(t->headers);
	free(t->www_auth);
	t->h = NULL;
	t->headers = NULL;
	t->www_auth = NULL;
}

static void show_progress(const struct registry_opts *o, size_t done, size_t total, uint64_t bytes,
			  bool final)
{
	if (!o->progress)
		return;
	fprintf(stderr, "\rCopying blobs: %zu/%zu, %.1f MiB%s", done, total,
		(double)bytes / 1048576.0, final ? "\n" : "");
	fflush(stderr);
}

static int fetch_blobs(struct client *c, struct store *s, const struct oci_descriptor **descs,
		       size_t n, struct husk_error *err)
{
	struct transfer *ts = calloc(n ? n : 1, sizeof(*ts));
	CURLM *multi = curl_multi_init();
	size_t next = 0, running = 0, done = 0;
	int r = 0;

	if (ts == NULL || multi == NULL) {
		free(ts);
		if (multi)
			curl_multi_cleanup(multi);
		return err_sys(err, ENOMEM, "blobs");
	}
	for (size_t i = 0; i < n; i++)
		ts[i] = (struct transfer){ .desc = descs[i], .s = s, .w = { .fd = -1 },
					   .range_start = -1 };
	int parallel = c->o->parallel > 0 ? c->o->parallel : 4;

	while (r == 0 && (next < n || running > 0)) {
		while (r == 0 && next < n && running < (size_t)parallel) {
			r = start_transfer(c, &ts[next++], multi, err);
			if (r == 0)
				running++;
		}
		if (r < 0)
			break;
		int still = 0;
		if (curl_multi_perform(multi, &still) != CURLM_OK) {
			r = err_set(err, EIO, "curl: transfer failed");
			break;
		}
		CURLMsg *msg;
		int left;
		while (r == 0 && (msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct transfer *t = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			curl_multi_remove_handle(multi, t->h);
			running--;
			r = finish_transfer(c, t, msg->data.result, err);
			if (r == 1) {
				release_transfer(multi, t);
				r = start_transfer(c, t, multi, err);
				if (r == 0)
					running++;
				continue;
			}
			done++;
		}
		if (c->o->progress) {
			uint64_t bytes = 0;
			for (size_t i = 0; i < next; i++)
				bytes += ts[i].done ? (uint64_t)ts[i].desc->size
						    : (uint64_t)ts[i].w.written;
			show_progress(c->o, done, n, bytes, false);
		}
		if (r == 0 && running > 0)
			curl_multi_poll(multi, NULL, 0, 200, NULL);
	}
	if (c->o->progress && n > 0)
		show_progress(c->o, done, n, 0, true);
	for (size_t i = 0; i < n; i++) {
		/* cut short by another blob's failure (a bad blob, not a broken
		 * connection): a failed pull leaves nothing behind */
		if (!ts[i].done && ts[i].w.fd >= 0)
			blob_writer_abort(s, &ts[i].w);
		release_transfer(multi, &ts[i]);
	}
	curl_multi_cleanup(multi);
	free(ts);
	return r;
}

static int pull_manifest(struct client *c, struct store *s, const char *json, size_t len,
			 const char *digest, const char *media_type, const char *want_ref,
			 struct husk_error *err)
{
	struct oci_manifest *m = NULL;
	int r = image_parse_manifest(json, len, digest, &m, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < m->layers.len; i++)
		if (oci_layer_compression(m->layers.items[i].mediaType) == OCI_LAYER_UNKNOWN)
			r = err_set(err, ENOTSUP,
				    "manifest %s: layers[%zu]: unsupported media type \"%s\"",
				    digest, i, m->layers.items[i].mediaType);

	const struct oci_descriptor **need = calloc(m->layers.len + 1, sizeof(*need));
	size_t n = 0;
	if (need == NULL && r == 0)
		r = err_sys(err, ENOMEM, "pull");
	for (size_t i = 0; r == 0 && i <= m->layers.len; i++) {
		const struct oci_descriptor *d = i == 0 ? m->config : &m->layers.items[i - 1];
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(need[k]->digest, d->digest) == 0;
		/* present is not enough: a blob corrupted in place would never be
		 * fetched again (its digest is checked here, once per pull) */
		if (!dup && !store_has_verified_blob(s, d->digest, d->size))
			need[n++] = d;
	}
	if (r == 0)
		r = fetch_blobs(c, s, need, n, err);
	free(need);

	struct oci_image_config *cfg = NULL;
	if (r == 0) {
		char *cjson = NULL;
		size_t clen;
		r = store_read_blob(s, m->config->digest, m->config->size, &cjson, &clen, err);
		if (r == 0)
			r = oci_decode(&oci_image_config_type, cjson, clen, m->config->digest,
				       (void **)&cfg, err);
		free(cjson);
	}
	char stored[DIGEST_LEN + 1];
	if (r == 0)
		r = store_write_blob(s, json, len, stored, err);
	if (r == 0) {
		struct oci_platform plat = { .os = cfg->os,
					     .architecture = cfg->architecture,
					     .variant = cfg->variant };
		struct oci_descriptor d = { .mediaType = (char *)media_type,
					    .digest = stored,
					    .size = (int64_t)len,
					    .platform = &plat };
		r = store_tag(s, want_ref, &d, err);
	}
	oci_free(&oci_image_config_type, cfg);
	oci_free(&oci_manifest_type, m);
	return r;
}

/* The CA certificates of --cert-dir (every *.crt, as podman reads it),
 * trusted instead of the system's. */
static int load_cert_dir(const char *dir, struct curl_blob *out, struct husk_error *err)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return err_sys(err, errno, "--cert-dir %s", dir);
	_cleanup_close_ int dfd = dup(dirfd(d));
	char *all = NULL;
	size_t len = 0;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".crt") != 0)
			continue;
		char *pem = NULL;
		size_t plen;
		r = read_file_at(dfd, de->d_name, 1 << 20, &pem, &plen, err);
		if (r < 0)
			break;
		char *grown = realloc(all, len + plen + 2);
		if (grown == NULL) {
			free(pem);
			r = err_sys(err, ENOMEM, "--cert-dir");
			break;
		}
		all = grown;
		memcpy(all + len, pem, plen);
		len += plen;
		all[len++] = '\n';
		free(pem);
	}
	closedir(d);
	if (r == 0 && len == 0)
		r = err_set(err, ENOENT, "--cert-dir %s: no *.crt files in it", dir);
	if (r < 0) {
		free(all);
		return r;
	}
	*out = (struct curl_blob){ .data = all, .len = len, .flags = CURL_BLOB_NOCOPY };
	return 0;
}

int registry_pull(const struct image_ref *ref, const struct platform *p,
		  const struct registry_opts *o, struct store *s, char digest_out[DIGEST_LEN + 1],
		  struct husk_error *err)
{
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return err_set(err, EIO, "curl: initialisation failed");
		curl_ready = true;
	}
	struct client c = { .ref = ref, .o = o };
	snprintf(c.source, sizeof(c.source), "%s/%s", ref->host, ref->repo);
	struct response resp = { 0 };
	enum oci_doc_kind kind;
	char digest[DIGEST_LEN + 1];
	int r = creds_find(o->creds, o->authfile, ref->host, &c.creds, err);
	if (r == 0 && o->cert_dir)
		r = load_cert_dir(o->cert_dir, &c.ca, err);
	if (r == 0)
		r = ping(&c, err);
	if (r == 0)
		r = fetch_manifest(&c, ref->digest ? ref->digest : ref->tag, ref->digest, &resp,
				   digest, &kind, err);
	if (r == 0 && kind == OCI_DOC_INDEX) {
		struct oci_index *idx = NULL;
		const struct oci_descriptor *pick = NULL;
		r = oci_decode(&oci_index_type, resp.body, resp.len, digest, (void **)&idx, err);
		if (r == 0)
			r = oci_index_check(idx, digest, err);
		if (r == 0)
			r = platform_select(idx, p, ref->name, &pick, err);
		char *want = NULL;
		if (r == 0 && (want = strdup(pick->digest)) == NULL)
			r = err_sys(err, ENOMEM, "pull");
		oci_free(&oci_index_type, idx);
		if (r == 0) {
			response_free(&resp);
			r = fetch_manifest(&c, want, want, &resp, digest, &kind, err);
			if (r == 0 && kind != OCI_DOC_MANIFEST)
				r = err_set(err, EINVAL,
					    "%s: the index points at another index (%s)", ref->name,
					    want);
		}
		free(want);
	}
	if (r == 0) {
		const char *mt = oci_media_type_kind(resp.content_type) == OCI_DOC_MANIFEST
					 ? resp.content_type
					 : OCI_MT_MANIFEST;
		r = pull_manifest(&c, s, resp.body, resp.len, digest, mt, ref->name, err);
	}
	if (r == 0)
		memcpy(digest_out, digest, sizeof(digest));
	response_free(&resp);
	creds_free(&c.creds);
	if (c.auth)
		explicit_bzero(c.auth, strlen(c.auth));
	free(c.auth);
	free(c.ca.data);
	return r;
}
