/*
 * spf_suite.c - the RFC 7208 test suite (pyspf's rfc7208-tests.yml)
 * through vigil's own SPF check: each scenario's zonedata becomes a
 * DNSZoneFile, each case one message through scan_buffer with the
 * case's client address, HELO and MAIL FROM; the result and explanation
 * are read back from the check (auth_spf).
 *
 *   spf_suite [-v] [-x xfail-list] rfc7208-tests.yml
 *
 * Zone emulation as pyspf's testspf.py: "SPF" entries are TXT unless the
 * name has TXT of its own; TIMEOUT makes every type without a record
 * listed before it time out; CNAMEs are flattened (a loop times out);
 * multi-string TXT is joined.  Each case runs in a child with an alarm,
 * so a crash or hang is a failure, not the end of the run.
 *
 * Prints "spf: N passed, N failed" (and how the failures compare with
 * the expected-failure list); exits 1 when a case fails that is not
 * listed, so a regression shows.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "cfg.h"
#include "msg.h"
#include "pipeline.h"
#include "snap.h"
#include "checks/auth/auth.h"
#include "harness.h"

static bool verbose;

/* ---- the scenario's zone, as testspf.py reads it ---------------------- */

enum { Z_A, Z_AAAA, Z_MX, Z_TXT, Z_SPF, Z_PTR, Z_CNAME, Z_TIMEOUT };
static const char *const tname[] = { "A", "AAAA", "MX", "TXT", "SPF", "PTR",
    "CNAME", "TIMEOUT" };

struct rec {
	int		 type;
	char		*data;
};
struct zname {
	char		*name;
	struct rec	*recs;
	int		 nrecs, cap;
	bool		 has_txt;
};
struct zone {
	struct zname	*names;
	int		 n, cap;
};

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		perror("realloc");
		exit(2);
	}
	return p;
}

static char *
strip_dot(const char *s)
{
	char *d = strdup(s);
	size_t l = strlen(d);

	while (l > 1 && d[l - 1] == '.')
		d[--l] = '\0';
	return d;
}

static struct zname *
zone_get(struct zone *z, const char *name, bool create)
{
	char *n = strip_dot(name);
	struct zname *e;

	for (int i = 0; i < z->n; i++)
		if (strcasecmp(z->names[i].name, n) == 0) {
			free(n);
			return &z->names[i];
		}
	if (!create) {
		free(n);
		return NULL;
	}
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 32;
		z->names = xrealloc(z->names, z->cap * sizeof(*z->names));
	}
	e = &z->names[z->n++];
	memset(e, 0, sizeof(*e));
	e->name = n;
	return e;
}

static void
zname_add(struct zname *e, int type, const char *data)
{
	if (e->nrecs == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->recs = xrealloc(e->recs, e->cap * sizeof(*e->recs));
	}
	e->recs[e->nrecs].type = type;
	e->recs[e->nrecs].data = data != NULL ? strdup(data) : NULL;
	e->nrecs++;
}

static void
zone_free(struct zone *z)
{
	for (int i = 0; i < z->n; i++) {
		for (int j = 0; j < z->names[i].nrecs; j++)
			free(z->names[i].recs[j].data);
		free(z->names[i].recs);
		free(z->names[i].name);
	}
	free(z->names);
	memset(z, 0, sizeof(*z));
}

static const char *
scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	    p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(d, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* A scalar, or a sequence of scalars joined with sep. */
static char *
join_value(yaml_document_t *d, yaml_node_t *v, const char *sep)
{
	size_t len = 1;
	char *out;
	bool first = true;

	if (v->type == YAML_SCALAR_NODE)
		return strdup(scalar(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		const char *s = scalar(yaml_document_get_node(d, *it));

		len += (s != NULL ? strlen(s) : 0) + strlen(sep);
	}
	out = calloc(1, len);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		const char *s = scalar(yaml_document_get_node(d, *it));

		if (!first)
			strcat(out, sep);
		strcat(out, s != NULL ? s : "");
		first = false;
	}
	return out;
}

static void
load_zone(yaml_document_t *d, yaml_node_t *zd, struct zone *z)
{
	if (zd == NULL || zd->type != YAML_MAPPING_NODE)
		return;
	for (yaml_node_pair_t *p = zd->data.mapping.pairs.start;
	    p < zd->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(d, p->key));
		yaml_node_t *list = yaml_document_get_node(d, p->value);
		struct zname *e = zone_get(z, name, true);
		char **gen = NULL;
		int ngen = 0;

		if (list == NULL || list->type != YAML_SEQUENCE_NODE)
			continue;
		for (yaml_node_item_t *it = list->data.sequence.items.start;
		    it < list->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(d, *it);

			if (item->type == YAML_SCALAR_NODE) {
				if (strcmp(scalar(item), "TIMEOUT") == 0)
					zname_add(e, Z_TIMEOUT, NULL);
				continue;
			}
			if (item->type != YAML_MAPPING_NODE)
				continue;
			for (yaml_node_pair_t *q = item->data.mapping.pairs.start;
			    q < item->data.mapping.pairs.top; q++) {
				const char *t = scalar(yaml_document_get_node(d,
				    q->key));
				yaml_node_t *v = yaml_document_get_node(d,
				    q->value);
				int ty = -1;
				char *val;

				for (int k = 0; k < Z_TIMEOUT; k++)
					if (strcmp(t, tname[k]) == 0)
						ty = k;
				if (ty < 0)
					continue;
				val = join_value(d, v, ty == Z_MX ? " " : "");
				if (ty == Z_TXT)
					e->has_txt = true;
				if (ty == Z_SPF) {
					gen = xrealloc(gen, (ngen + 1) *
					    sizeof(*gen));
					gen[ngen++] = strdup(val);
				}
				if (strcmp(val, "NONE") != 0) {
					if (ty == Z_PTR || ty == Z_CNAME ||
					    ty == Z_MX) {
						char *s = strip_dot(val);

						free(val);
						val = s;
					}
					zname_add(e, ty, val);
				}
				free(val);
			}
		}
		for (int i = 0; i < ngen; i++) {
			if (!e->has_txt)
				zname_add(e, Z_TXT, gen[i]);
			free(gen[i]);
		}
		free(gen);
	}
}

/* "data" with \\, \" and \xHH escapes (the DNSZoneFile quoting). */
static void
put_quoted(FILE *out, const char *d, const char *after)
{
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)d; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			putc(*p, out);
	}
	putc('"', out);
	fputs(after, out);
}

enum { ZR_OK, ZR_NODATA, ZR_NX, ZR_TIMEOUT };

/* The records of type ty for e, pyspf's TIMEOUT and CNAME rules. */
static int
collect(struct zone *z, struct zname *e, int ty, int depth, FILE *out,
    const char *owner)
{
	int cname = -1, n = 0;

	for (int i = 0; i < e->nrecs; i++) {
		if (e->recs[i].type == Z_TIMEOUT)
			return n > 0 ? ZR_OK : ZR_TIMEOUT;
		if (e->recs[i].type == Z_CNAME && cname < 0)
			cname = i;
		if (e->recs[i].type == ty) {
			put_quoted(out, owner, " ");
			fprintf(out, "%s ", tname[ty]);
			put_quoted(out, e->recs[i].data, "\n");
			n++;
		}
	}
	if (n > 0)
		return ZR_OK;
	if (cname >= 0) {
		struct zname *t;

		if (depth >= 8)
			return ZR_TIMEOUT;
		if ((t = zone_get(z, e->recs[cname].data, false)) == NULL)
			return ZR_NX;
		return collect(z, t, ty, depth + 1, out, owner);
	}
	return ZR_NODATA;
}

/* Writes the scenario's zone in DNSZoneFile form. */
static void
write_zone(struct zone *z, const char *path)
{
	static const int types[] = { Z_A, Z_AAAA, Z_MX, Z_TXT, Z_PTR };
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	for (int i = 0; i < z->n; i++) {
		struct zname *e = &z->names[i];

		put_quoted(f, e->name, " EXISTS\n");
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (collect(z, e, types[k], 0, f, e->name) ==
			    ZR_TIMEOUT) {
				put_quoted(f, e->name, " ");
				fprintf(f, "%s TIMEOUT\n", tname[types[k]]);
			}
	}
	fclose(f);
}

/* ---- running a case ---------------------------------------------------- */

static struct snap *
snap_for(const char *zone_path)
{
	char zopt[1200];
	const char *ov[] = {
		/* only the check under test: no rules, AV or Bayes to build */
		zopt, "Checks=spf,dkim,dmarc", "AuthservID=unknown",
		"TrustedNetworks=",
		"SkipTrusted=no", "DKIMEnable=no", "DMARCEnable=no",
		"AuthResults=no", "DNSTimeout=5s",
	};

	snprintf(zopt, sizeof(zopt), "DNSZoneFile=%s", zone_path);
	return harness_snap("spf_suite", ov, sizeof(ov) / sizeof(ov[0]));
}

struct spf_case {
	struct snap	*s;
	const char	*host, *helo, *from;
};

/* In the child: "result\texplanation" to fd. */
static void
run_case(void *arg, int fd)
{
	static const char body[] = "From: test@example.com\r\n\r\ntest\r\n";
	const struct spf_case *sc = arg;
	struct scan_env env = { 0 };
	const struct verdict *v;
	const struct auth_spf *r;
	struct msg *m;

	env.client_addr = sc->host;
	env.helo = sc->helo;
	env.mail_from = sc->from;
	m = scan_buffer(sc->s, &env, (const unsigned char *)body,
	    sizeof(body) - 1, "spf", &v);
	if ((r = auth_spf(m)) == NULL)
		dprintf(fd, "no-result\t");
	else
		dprintf(fd, "%s\t%s", auth_res_name(r->result),
		    r->explanation != NULL ? r->explanation : "");
	msg_end(&m);
	_exit(0);
}

struct stats {
	int		 pass, fail;
	struct xfail	*xf;
};

static void
run_test(struct snap *s, const char *scen, const char *name,
    yaml_document_t *d, yaml_node_t *t, struct stats *st)
{
	const char *host = scalar(map_get(d, t, "host"));
	const char *helo = scalar(map_get(d, t, "helo"));
	const char *from = scalar(map_get(d, t, "mailfrom"));
	yaml_node_t *resn = map_get(d, t, "result");
	const char *expl = scalar(map_get(d, t, "explanation"));
	char *want = resn != NULL ? join_value(d, resn, ",") : strdup("?");
	struct spf_case sc = { s, host ? host : "", helo ? helo : "",
	    from ? from : "" };
	char got[4200], gexp[4096], *w, *sv = NULL;
	bool ok = false, expok = true;

	harness_run(run_case, &sc, 10, got, sizeof(got), gexp, sizeof(gexp));
	w = strdup(want);
	for (char *tok = strtok_r(w, ",", &sv); tok != NULL;
	    tok = strtok_r(NULL, ",", &sv))
		if (strcmp(tok, got) == 0)
			ok = true;
	free(w);
	if (ok && expl != NULL) {
		const char *want_exp = strcmp(expl, "DEFAULT") == 0 ?
		    spf_default_explanation : expl;

		expok = strcmp(want_exp, gexp) == 0;
	}
	if (ok && expok)
		st->pass++;
	else
		st->fail++;
	xfail_note(st->xf, name, ok && expok);
	if (verbose || !(ok && expok)) {
		printf("%s %-32s [%s] want %-18s got %s", ok && expok ? "PASS" :
		    xfail_listed(st->xf, name) ? "XFAIL" : "FAIL", name, scen,
		    want, got);
		if (ok && !expok)
			printf("  (explanation want \"%s\" got \"%s\")", expl,
			    gexp);
		printf("\n");
	}
	free(want);
}

int
main(int argc, char **argv)
{
	const char *path;
	char dir[] = "/tmp/vigil-spf-suite-XXXXXX", zpath[300];
	struct stats st = { 0 };
	yaml_parser_t parser;
	FILE *f;

	path = harness_init(argc, argv, "spf_suite", "rfc7208-tests.yml",
	    &verbose, &st.xf);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "spf_suite: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(zpath, sizeof(zpath), "%s/zone.txt", dir);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root, *tests;
		struct zone z = { 0 };
		struct snap *s;
		const char *desc;

		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "spf_suite: YAML error: %s at line %lu\n",
			    parser.problem,
			    (unsigned long)parser.problem_mark.line + 1);
			return 2;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		/* A NUL in a record (a-null, mx-null): the zone file cannot
		 * hold it, and vigil's resolver turns it into \x01 anyway. */
		for (yaml_node_t *nd = doc.nodes.start; nd < doc.nodes.top; nd++)
			if (nd->type == YAML_SCALAR_NODE)
				for (size_t i = 0; i < nd->data.scalar.length; i++)
					if (nd->data.scalar.value[i] == '\0')
						nd->data.scalar.value[i] = '\x01';
		desc = scalar(map_get(&doc, root, "description"));
		load_zone(&doc, map_get(&doc, root, "zonedata"), &z);
		write_zone(&z, zpath);
		s = snap_for(zpath);
		tests = map_get(&doc, root, "tests");
		if (tests != NULL && tests->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
			    p < tests->data.mapping.pairs.top; p++)
				run_test(s, desc != NULL ? desc : "?",
				    scalar(yaml_document_get_node(&doc, p->key)),
				    &doc, yaml_document_get_node(&doc, p->value),
				    &st);
		snap_unref(&s);
		zone_free(&z);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	unlink(zpath);
	rmdir(dir);
	snprintf(zpath, sizeof(zpath), ", %d cases", st.pass + st.fail);
	return xfail_report(st.xf, "spf", st.pass, "spf.xfail", zpath) ? 0 : 1;
}
