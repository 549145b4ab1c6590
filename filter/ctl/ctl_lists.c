/*
 * ctl_lists.c - vigilctl allow|block add|del|list: the allow and block
 * lists kept in ListsFile (policy_lists.h).  A change rewrites the file
 * whole (temporary file, rename) and asks a running daemon to reload;
 * the daemon also re-reads the file at its next message when it changed.
 *
 *	vigilctl block add sender spam@example.org --comment "bought list" \
 *	    --expires 30d
 *	vigilctl allow add client 192.0.2.0/24
 *	vigilctl block del domain example.net
 *	vigilctl block list [sender|client|domain]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "cfg.h"
#include "checks/policy_lists.h"
#include "ctl/vigilctl.h"
#include "ctl/ctl_help.h"
#include "json.h"
#include "lib/util.h"

/* The help table's usage lines for the list (allow or block). */
static void
lists_usage(FILE *out, const char *list)
{
	ctl_help_usage(list, out);
}

/* Asks a running daemon to re-read its configuration (and so the file);
 * a daemon that is not running reads the file when it starts. */
static void
ask_reload(const struct ctl_opts *o, const struct cfg *c)
{
	const char *sock = cfg_str(c, "ControlSocket");
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	if (sock == NULL || stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		printf("vigil is not running: it reads the lists when it "
		    "starts\n");
		return;
	}
	if ((mem = open_memstream(&buf, &len)) == NULL)
		return;
	rc = ctl_control_to(o, "reload", mem);
	fclose(mem);
	free(buf);
	if (rc == 0)
		printf("the running vigil reloaded\n");
	else
		fprintf(stderr, "vigilctl: saved; the running vigil reads the "
		    "change at its next message\n");
}

/* list --json: [{"kind":..,"value":..,"state":"live"|"expired",
 * "expires":"2026-..Z"|null,"added":..,"comment":..}, ...] */
static int
lists_json(const struct plist *l, enum plist_list list, int kind)
{
	int64_t now = (int64_t)time(NULL);
	bool first = true;

	putchar('[');
	for (size_t i = 0; i < l->n; i++) {
		const struct plist_entry *e = &l->v[i];
		char added[32], expires[32];

		if (e->list != list || (kind >= 0 && (int)e->kind != kind))
			continue;
		printf("%s{\"list\":\"%s\",\"kind\":\"%s\",\"value\":",
		    first ? "" : ",", plist_list_name(list),
		    plist_kind_name(e->kind));
		first = false;
		json_put_string(stdout, e->value);
		printf(",\"state\":\"%s\",\"expires\":",
		    plist_expired(e, now) ? "expired" : "live");
		if (e->expires != 0)
			printf("\"%s\"", plist_time(e->expires, expires,
			    sizeof(expires)));
		else
			printf("null");
		printf(",\"added\":\"%s\",\"comment\":",
		    plist_time(e->added, added, sizeof(added)));
		json_put_string(stdout, e->comment);
		putchar('}');
	}
	printf("]\n");
	return 0;
}

static int
lists_list(const struct plist *l, enum plist_list list, int kind)
{
	int64_t now = (int64_t)time(NULL);
	bool first = true;

	for (size_t i = 0; i < l->n; i++) {
		const struct plist_entry *e = &l->v[i];
		char added[32], expires[32];

		if (e->list != list || (kind >= 0 && (int)e->kind != kind))
			continue;
		if (first)
			printf("%-6s %-30s %-7s %-20s %-20s %s\n", "KIND",
			    "VALUE", "STATE", "EXPIRES", "ADDED", "COMMENT");
		first = false;
		printf("%-6s %-30s %-7s %-20s %-20s %s\n",
		    plist_kind_name(e->kind), e->value,
		    plist_expired(e, now) ? "expired" : "live",
		    e->expires != 0 ? plist_time(e->expires, expires,
		    sizeof(expires)) : "never",
		    plist_time(e->added, added, sizeof(added)), e->comment);
	}
	return 0;
}

int
ctl_lists(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "comment", required_argument, NULL, 'C' },
		{ "expires", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	enum plist_list list = (enum plist_list)plist_list_parse(argv[0]);
	const char *comment = "", *expires_s = NULL, *value, *why = NULL;
	const char *path, *verb;
	uint64_t ms = 0;
	struct plist *l = NULL;
	struct cfg *c = NULL;
	char *err = NULL;
	int ch, kind = -1, rc = 0;
	bool json = false;
	long i;

	if (ctl_wants_help(argc, argv, argc)) {
		lists_usage(stdout, argv[0]);
		return 0;
	}
	/* Options before or after the operands (getopt permutes them). */
	optind = 0;	/* 0: glibc starts over, forgetting main's "+" */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C': comment = optarg; break;
		case 'e': expires_s = optarg; break;
		case 'j': json = true; break;
		default:
			lists_usage(stderr, plist_list_name(list));
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		lists_usage(stderr, plist_list_name(list));
		return EX_USAGE;
	}
	verb = argv[0];
	if (argc > 3) {
		fprintf(stderr, "vigilctl %s: unexpected argument \"%s\"\n",
		    plist_list_name(list), argv[3]);
		lists_usage(stderr, plist_list_name(list));
		return EX_USAGE;
	}
	if (argc >= 2 && (kind = plist_kind_parse(argv[1])) < 0) {
		fprintf(stderr, "vigilctl %s: \"%s\" is not sender, client or "
		    "domain\n", plist_list_name(list), argv[1]);
		return EX_USAGE;
	}
	if (strcmp(verb, "list") == 0) {
		if (argc > 2 || expires_s != NULL || *comment != '\0') {
			lists_usage(stderr, plist_list_name(list));
			return EX_USAGE;
		}
	} else if (json) {
		lists_usage(stderr, plist_list_name(list));
		return EX_USAGE;
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0) {
		if (argc != 3 || (verb[0] == 'd' &&
		    (expires_s != NULL || *comment != '\0'))) {
			lists_usage(stderr, plist_list_name(list));
			return EX_USAGE;
		}
	} else {
		fprintf(stderr, "vigilctl %s: unknown action \"%s\" (add, del "
		    "or list)\n", plist_list_name(list), verb);
		return EX_USAGE;
	}
	if (expires_s != NULL && (!util_parse_duration(expires_s, &ms) ||
	    ms < 1000)) {
		fprintf(stderr, "vigilctl %s: --expires \"%s\" is not a "
		    "duration (30d, 12h, 90m)\n", plist_list_name(list),
		    expires_s);
		return EX_DATAERR;
	}
	for (const char *p = comment; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			fprintf(stderr, "vigilctl %s: --comment holds a control "
			    "character (a tab or a line break)\n",
			    plist_list_name(list));
			return EX_DATAERR;
		}
	if ((c = ctl_cfg(o)) == NULL)
		return EX_CONFIG;
	path = cfg_str(c, "ListsFile");
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "vigilctl: no ListsFile in %s\n", cfg_file(c));
		rc = EX_CONFIG;
		goto out;
	}
	if ((l = plist_load(path, &err)) == NULL) {
		fprintf(stderr, "vigilctl: ListsFile %s\n",
		    err != NULL ? err : "out of memory");
		rc = EX_CONFIG;
		goto out;
	}
	if (verb[0] == 'l') {
		rc = json ? lists_json(l, list, kind) :
		    lists_list(l, list, kind);
		goto out;
	}
	if ((value = plist_value(l, (enum plist_kind)kind, argv[2], &why)) ==
	    NULL) {
		fprintf(stderr, "vigilctl %s %s %s: \"%s\" is %s\n",
		    plist_list_name(list), verb, argv[1], argv[2], why);
		rc = EX_DATAERR;
		goto out;
	}
	i = plist_find(l, list, (enum plist_kind)kind, value);
	if (verb[0] == 'd') {
		if (i < 0) {
			fprintf(stderr, "vigilctl %s del: no %s %s in %s\n",
			    plist_list_name(list), argv[1], value, path);
			rc = 1;
			goto out;
		}
		plist_del(l, (size_t)i);
	} else {
		int64_t now = (int64_t)time(NULL);

		plist_add(l, list, (enum plist_kind)kind, value, now,
		    ms != 0 ? now + (int64_t)(ms / 1000) : 0, comment);
	}
	if (!plist_save(l, path, &err)) {
		fprintf(stderr, "vigilctl: ListsFile %s\n",
		    err != NULL ? err : "out of memory");
		rc = 1;
		goto out;
	}
	printf("%s %s %s %s\n", verb[0] == 'd' ? "removed from" :
	    i >= 0 ? "updated in" : "added to", plist_list_name(list),
	    plist_kind_name((enum plist_kind)kind), value);
	ask_reload(o, c);
out:
	free(err);
	plist_free(&l);
	cfg_unref(&c);
	return rc;
}
