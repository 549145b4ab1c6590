/*
 * ctl_help_table.c - every vigilctl command: synopsis, what it does, its
 * options and exit statuses.  `vigilctl help`, `COMMAND --help` and the
 * COMMANDS section of vigilctl(8) are all printed from here.  A new
 * command is one entry (and its function in vigilctl.c's dispatch table).
 */
#include <stddef.h>

#include "ctl/ctl_help.h"
#include "ctl/ctl_help_int.h"

const struct ctl_help ctl_help_table[] = {
	{ "scan",
	  "[--json|--check|--headers] [--explain] [--ip ADDR] [--helo NAME] "
	  "[--from ADDR] [--rcpt ADDR]... [--auth USER] PATH...",
	  "scan messages offline and explain every point of their score",
	  "Run each message through the milter's checks offline and explain "
	  "every point of its score. "
	  "PATH is a message, a folder (walked), a Maildir, an mbox (each "
	  "message, as PATH#N) or - for standard input. "
	  "A message the content checks skip (a trusted client, SMTP AUTH, "
	  "over MaxScanSize) says why. "
	  "A meta rule shows its expression and the sub-rules that hit, a "
	  "negated rule the pattern the header did not match. "
	  "Input that is not mail (empty, binary, no header field at the "
	  "start) is reported on standard error and not scanned; bayes learn "
	  "never learns it.",
	  "0 scanned, 1 --check found spam, 64 usage, 65 an input is not "
	  "mail, 66 a path cannot be read (the others are scanned), 78 "
	  "configuration",
	  false,
	  { { "--json", "one JSON object a message, for scripts" },
	    { "--check", "as spamc -c: PATH: SCORE/REQUIRED ACTION a message; "
	      "exit 1 if one is spam (score at or over required)" },
	    { "--explain", "each rule's describe text; a meta rule's "
	      "expression and every sub-rule, hit (where, on what) or not; "
	      "Bayes's 10 strongest tokens toward spam and toward ham, each "
	      "as the tokenizer made it (a body word, subject:WORD, a pair "
	      "of words, uh:HOST), header or body, its f(w) and counts "
	      "(with --json: bayes_tokens); the store keeps hashed tokens "
	      "only, so the message is tokenized again, never in the milter" },
	    { "--headers, -t", "as spamassassin -t: the message as the milter "
	      "would deliver it, with vigil's headers on top and after its "
	      "own, the subject rewritten (RewriteSubject); one it would not "
	      "deliver is named on standard error" },
	    { "--ip ADDR", "the client address the MTA would report" },
	    { "--helo NAME", "its HELO name" },
	    { "--from ADDR", "the envelope sender" },
	    { "--rcpt ADDR", "an envelope recipient (repeatable)" },
	    { "--auth USER", "the SMTP AUTH user" } } },

	{ "quarantine list",
	  "[--since DUR|DATE] [--sender S] [--rcpt R] [--min-score N] "
	  "[--reason virus|spam|policy|WORD] [--state held|released|deleted] "
	  "[--json]",
	  "review, release and remove quarantined mail",
	  "List the quarantined messages, oldest first, with the time each "
	  "was last released and its state: held, released or deleted. "
	  "While vigil runs, the quarantine commands and stats ask it over "
	  "its ControlSocket where its quarantine is (QuarantineDir, "
	  "QuarantineDB, ReleaseKeyFile), so that options it was started "
	  "with need not be repeated; vigilctl's own -o still win.",
	  "0 ok, 1 refused or failed, 64 usage, 78 configuration",
	  false,
	  { { "--since DUR|DATE", "only entries this recent (30d) or since "
	      "DATE" },
	    { "--sender S", "the sender contains S" },
	    { "--rcpt R", "a recipient contains R" },
	    { "--min-score N", "only entries that scored N or more" },
	    { "--reason virus|spam|policy|WORD", "only entries held for "
	      "that reason" },
	    { "--state held|released|deleted", "only entries never released, "
	      "those released, or those deleted and not yet purged" },
	    { "--json", "one JSON object an entry" } } },
	{ "quarantine show", "ID", NULL,
	  "Envelope, hits, headers and a text preview of one entry. "
	  "An ID is the full id or a unique prefix of four or more of its "
	  "hex digits, as git(1) takes abbreviated hashes; an ambiguous "
	  "prefix names the candidates.",
	  NULL, false, { { NULL, NULL } } },
	{ "quarantine release",
	  "ID... [--to ADDR] [--learn-ham] [--again]", NULL,
	  "Re-inject through SendmailCommand with a token the filter "
	  "verifies. "
	  "An entry already released is refused (exit 1) unless --again is "
	  "given; a deleted one always (exit 65).",
	  NULL, false,
	  { { "--to ADDR", "deliver to ADDR instead of the original "
	      "recipients" },
	    { "--learn-ham", "also learn the message as ham" },
	    { "--again, --force", "release an entry released before" } } },
	{ "quarantine delete", "ID...", NULL,
	  "Remove the entries' messages; their index rows stay, with when "
	  "and by whom they were deleted, and list as deleted until purged. "
	  "Deleted entries are never shown on the web pages or in digests.",
	  NULL, false, { { NULL, NULL } } },
	{ "quarantine purge", "--older-than DUR [--dry-run]", NULL,
	  "Remove for good the entries older than DUR (30d), deleted ones "
	  "included.",
	  NULL, false,
	  { { "--older-than DUR", "the age of the entries to remove" },
	    { "--dry-run", "list what would be removed, remove nothing" } } },
	{ "quarantine add",
	  "--rcpt ADDR... [--from ADDR] [--ip ADDR] [--helo NAME] PATH...",
	  NULL,
	  "Scan each message (files, folders, mbox, -) and store it as the "
	  "milter would, whatever its verdict, with the envelope given: a "
	  "quarantine staged without an MTA (the same index, files and "
	  "release tokens). "
	  "Input that is not mail is not added (exit 65).",
	  NULL, false,
	  { { "--rcpt ADDR", "a recipient a release delivers to "
	      "(repeatable)" },
	    { "--from ADDR", "the envelope sender" },
	    { "--ip ADDR", "the client address" },
	    { "--helo NAME", "its HELO name" } } },
	{ "quarantine migrate", "--to DIR|postgresql://...", NULL,
	  "Copy the configured store (entries, messages, release nonces, "
	  "false-positive counts) into another: a QuarantineDir folder or a "
	  "PostgreSQL database (QuarantineDB). "
	  "Ids already there are kept, so it can be run again; counts add "
	  "up. Deleted entries, whose messages are gone, are not copied.",
	  NULL, false,
	  { { "--to DIR|postgresql://...", "the store to copy into" } } },

	{ "db", "upgrade",
	  "make or upgrade the quarantine store's schema",
	  "Make or upgrade the quarantine store's schema (QuarantineDB, or "
	  "the index.sqlite of QuarantineDir) and print its version before "
	  "and after (an index.sqlite is also upgraded by whoever opens it "
	  "first).",
	  "0 ok, 1 failed, 64 usage, 78 configuration",
	  false, { { NULL, NULL } } },

	{ "digest", "[--send] [--since DUR] [--rcpt ADDR]",
	  "mail each recipient the list of their quarantined mail",
	  "One mail per recipient listing their quarantined, unreleased mail "
	  "of the last DUR (1d) with signed links to vigil-web(8) "
	  "(WebBaseURL), valid for WebLinkLifetime; printed as an mbox, or "
	  "with --send handed to SendmailCommand from DigestFrom; only "
	  "recipients in DigestDomains when it is set.",
	  "0 ok, 1 failed, 64 usage, 78 configuration",
	  false,
	  { { "--send", "hand the mails to SendmailCommand" },
	    { "--since DUR", "the period listed (1d)" },
	    { "--rcpt ADDR", "only this recipient" } } },

	{ "rules lint", "[--no-stress] [--warn-only] [PATH...]",
	  "check rule files, list them, show which rules a message hits, "
	  "time them",
	  "Load and compile rule files and stress-test every regex; errors "
	  "exit 1. "
	  "PATH is a rules file or a folder of *.rules and *.cf files; "
	  "without one, RulesDir then LocalRulesDir. "
	  "Errors are what makes a rule not do what its author meant: an "
	  "unknown directive (a typo), a score, tflags or describe line for "
	  "a rule nobody defines, a duplicate name, a meta rule naming no "
	  "rule, a score beyond +-1000, a regex that does not compile or "
	  "fails the stress test, a binary or non-UTF-8 file. "
	  "Directives SpamAssassin has and vigil skips are warnings. "
	  "The last line counts the rules loaded and those not loaded, each "
	  "with its reason: skipped (an eval test vigil lacks, a bad or too "
	  "large regex), scored 0 (off, as in SpamAssassin), or in a block of "
	  "a plugin vigil does not provide (listed by plugin above it).",
	  "0 ok, 1 lint found errors or a rule did not hit, 64 usage, 65 no "
	  "such rule, 66 an input is missing, 78 configuration",
	  false,
	  { { "--no-stress", "do not stress-test the regexes" },
	    { "--warn-only", "show errors as warnings and exit 0; the "
	      "summary line stays" } } },
	{ "rules list", "[--weights] [PATH...]", NULL,
	  "NAME TYPE SCORE of every rule that will run.",
	  NULL, false,
	  { { "--weights", "NAME TYPE, its points without and with Bayes "
	      "(score sets) and the file:line that set them, then the other "
	      "checks' findings that score lines weigh" } } },
	{ "rules test", "[--ip ADDR] [--helo NAME] [--from ADDR] MSG [RULE...]",
	  NULL,
	  "The rules a message hits, where and on what text (MSG is read as "
	  "scan reads its input); with RULEs, exit 1 if one did not hit, 65 if "
	  "one does not exist.",
	  NULL, false,
	  { { "--ip ADDR", "the client address (SPF and DMARC need it)" },
	    { "--helo NAME", "the HELO name" },
	    { "--from ADDR", "the envelope sender" } } },
	{ "rules test", "--batch [--counts] [--ip ADDR] [--helo NAME] "
	  "[--from ADDR] MSG...", NULL,
	  "One line a message, FILE: RULE..., for scripts.",
	  NULL, false,
	  { { "--batch", "one line a message" },
	    { "--counts", "RULE:N, N the matches counted" } } },
	{ "rules bench", "PATH...", NULL,
	  "The rules' own time on the messages (folders walked).",
	  NULL, false, { { NULL, NULL } } },

	{ "scores learn",
	  "[--spam|--ham PATH]... [--spam-list|--ham-list FILE]... "
	  "[--from-quarantine] [--fp-target PCT] [--fp-target-untrained PCT] "
	  "[--ham-weight-untrained W|auto] [--group-jaccard J|none|auto] "
	  "[--lambda L|auto] [--folds K] "
	  "[--min-hits N] [--source TEXT] [--verbose] [-o OUT]",
	  "learn every rule's score from labelled mail; show what a new "
	  "scores file would change",
	  "Write a rules file of score lines (standard output without -o) "
	  "with every rule's score fitted to labelled mail, to be put in "
	  "LocalRulesDir, read after RulesDir so that its scores win. "
	  "Two score sets: with Bayes, its threshold placed at --fp-target "
	  "of held-out ham, and without Bayes, for a store that has not "
	  "learned enough, at --fp-target-untrained. Each set's weights are "
	  "its held-out folds' models averaged, and the rules of a plugin "
	  "block (ifplugin) get no weight in a set whose folds do better "
	  "without them; they still run, for the metas and the other set.",
	  "0 ok, 1 failed, 64 usage, 66 an input is missing, 78 "
	  "configuration",
	  false,
	  { { "--spam PATH", "spam: a message, folder, Maildir or mbox" },
	    { "--ham PATH", "ham, read the same way" },
	    { "--spam-list FILE", "spam paths, one a line" },
	    { "--ham-list FILE", "ham paths, one a line" },
	    { "--from-quarantine", "released entries as ham, those still "
	      "held as spam" },
	    { "--fp-target PCT", "held-out ham over the Bayes set's threshold "
	      "(0.1%)" },
	    { "--fp-target-untrained PCT", "the same without Bayes (0: above "
	      "every held-out ham)" },
	    { "--ham-weight-untrained W|auto", "the spam each ham weighs in "
	      "that fit (auto: chosen on the folds among 1, 3, 10 and 30)" },
	    { "--group-jaccard J|none|auto", "findings whose hits overlap "
	      "by at least J (hits of both over hits of either) share one "
	      "weight, fitted as one piece of evidence (auto: chosen on the "
	      "folds between none and 0.8)" },
	    { "--lambda L|auto", "the L2 penalty (auto: chosen by held-out "
	      "folds)" },
	    { "--folds K", "the number of folds (10)" },
	    { "--min-hits N", "the messages a finding must be seen in (3)" },
	    { "--source TEXT", "the corpus named in the file's header" },
	    { "--verbose", "print each fold's errors" },
	    { "-o OUT, --output OUT", "the file to write" } } },
	{ "scores diff",
	  "OLD NEW [--spam|--ham PATH]... [--spam-list|--ham-list FILE]... "
	  "[PATH]...", NULL,
	  "Scan the mail with the configured rules weighed by OLD, then by "
	  "NEW (each read after RulesDir), print every message whose action "
	  "changes and, for labelled mail, false positives and negatives "
	  "before and after.",
	  NULL, false, { { NULL, NULL } } },

	{ "bayes learn",
	  "--spam|--ham [--forget] [--list FILE] PATH...",
	  "train and inspect the Bayes classifier (files, Maildirs, mbox, -)",
	  "Train the Bayes classifier. "
	  "PATH is read as scan reads it; input that is not mail is never "
	  "learned.",
	  "0 ok, 1 the store failed, 64 usage, 65 learn: an input is not "
	  "mail (not learned), 66 a path cannot be read (the others are "
	  "read)",
	  true,
	  { { "--spam, -s", "learn the messages as spam" },
	    { "--ham, -h", "learn them as ham" },
	    { "--forget", "unlearn them" },
	    { "--list FILE", "the paths, one a line (- for standard input)" } } },
	{ "bayes stats", "", NULL,
	  "The store's counts, last learn and readiness.",
	  NULL, false, { { NULL, NULL } } },
	{ "bayes expire", "", NULL,
	  "Drop old tokens (BayesExpireAge, BayesExpireMaxCount).",
	  NULL, false, { { NULL, NULL } } },
	{ "bayes classify", "[--rank] [--list FILE] PATH...", NULL,
	  "One line a message: the path, p(spam)=P (the spam probability) "
	  "and spam, ham or unsure, tab-separated.",
	  NULL, false,
	  { { "--rank", "the ranking score instead of P (ordered like P, "
	      "never saturating)" },
	    { "--list FILE", "the paths, one a line" } } },
	{ "bayes bench", "[--cv] [--threshold P] [TUNING...] CORPUS SPLITDIR",
	  NULL,
	  "Learning speed and accuracy on a corpus split, in a fresh store; "
	  "the TUNING options try tokenizer and classifier settings against "
	  "the defaults.",
	  NULL, false,
	  { { "--cv", "cross-validated" },
	    { "--threshold P", "the spam probability called spam" },
	    { "--window N", "pair each word with up to N before it (OSB)" },
	    { "--text-max BYTES", "the body text tokenized" },
	    { "--no-headers", "tokenize no header" },
	    { "--no-received", "no Received header" },
	    { "--no-shapes", "not the shapes of Message-ID, Date and From" },
	    { "--no-received-ips", "not the /16 and /24 of Received "
	      "addresses" },
	    { "--s S", "Robinson's strength of the prior" },
	    { "--x X", "the prior spamminess of a rare token" },
	    { "--min-dev D", "ignore tokens this close to 0.5" },
	    { "--max-toks N", "combine at most N tokens each side" },
	    { "--header-weight W", "the headers' share of the mean logit" } } },

	{ "reload", "",
	  "rebuild the running daemon's configuration and rules",
	  "Make the running daemon rebuild its configuration and rules; a "
	  "set that does not load is refused and the running one stays.",
	  "0 ok, 1 refused, 64 usage, 69 the daemon is unreachable, 78 "
	  "configuration",
	  false, { { NULL, NULL } } },
	{ "stats", "[--json]",
	  "the running daemon's counters and versions, grouped",
	  "The running daemon's counters, each check's state (Bayes: "
	  "learning, 37/200 spam, 12/200 ham) and its quarantine's counts "
	  "(held or released, released, deleted); with no daemon running, "
	  "the quarantine's counts from the store the configuration names.",
	  "0 ok, 1 failed, 64 usage, 69 the daemon is unreachable, 78 "
	  "configuration",
	  false,
	  { { "--json", "one object of every counter, for scripts" } } },
	{ "config", "[--defaults|--man]",
	  "print the effective configuration",
	  "The effective configuration.",
	  "0 ok, 64 usage, 78 configuration",
	  false,
	  { { "--defaults", "every option with its default" },
	    { "--man", "vigil.conf(5) made from the option tables" } } },

	{ "trace",
	  "[--from A] [--to B] [--subject TEXT] [--message-id ID] "
	  "[--queue-id Q] [--since DUR] [--log FILE] [--maillog FILE] "
	  "[--json]",
	  "where is my mail? each matching message's story from LogFile",
	  "Read the records of LogFile (LogFormat json; the rotated FILE.1 "
	  "first) and tell the story of each message matching every "
	  "criterion given: the client it came from, the envelope, the "
	  "verdict with its score and the points of each rule, the SMTP "
	  "reply of a rejected message or the headers added to a delivered "
	  "one, the quarantine entry with its release time and the released "
	  "copy's own verdict.",
	  "0 found, 1 nothing matched, 64 usage, 66 no log",
	  false,
	  { { "--from A", "the envelope sender contains A (any case)" },
	    { "--to B", "a recipient contains B" },
	    { "--subject TEXT", "the decoded subject contains TEXT" },
	    { "--message-id ID", "the Message-ID is ID (with or without "
	      "angle brackets)" },
	    { "--queue-id Q", "Postfix's queue id is Q" },
	    { "--since DUR", "only records this recent (s, m, h, d, w)" },
	    { "--log FILE", "vigil's JSON log (default: LogFile)" },
	    { "--maillog FILE", "Postfix's log: its delivery status, milter "
	      "actions and removal, joined by queue id" },
	    { "--json", "the matching records as they are, one a line" } } },
	{ "replay",
	  "[--rules DIR] [--weights FILE] [-o K=V]... [--all] SOURCE...",
	  "scan mail with the running and a candidate configuration, show "
	  "what changes",
	  "Scan each message with the running configuration and with a "
	  "candidate: the same configuration with shadow rules scoring, the "
	  "rules of DIR added, the score lines of FILE read last and each -o "
	  "setting changed. "
	  "A SOURCE is quarantine (every quarantined message, with its "
	  "envelope), quarantine:ID (one entry, as trace names it), a "
	  "message, a folder, a Maildir or an mbox. "
	  "Print each message whose action changes, with the rules gained "
	  "(+), lost (-) or rescored (~) and their points, then the totals "
	  "by action before and after.",
	  "0 nothing changes, 1 something does, 64 usage, 66 a source is "
	  "missing, 78 a configuration does not load",
	  false,
	  { { "--rules DIR", "rules added to the candidate" },
	    { "--weights FILE", "score lines read last by the candidate" },
	    { "-o K=V", "a setting the candidate changes (repeatable)" },
	    { "--all", "each message whose score changes" } } },
	{ "allow add",
	  "sender|client|domain VALUE [--comment TEXT] [--expires DUR]",
	  "the allow list kept in ListsFile (a running vigil reloads it)",
	  "Add an entry to the allow list kept in ListsFile (default "
	  LOCALSTATEDIR "/lib/vigil/lists). "
	  "A sender is an address (user@example.org) or @example.org for that "
	  "domain only; a client an IPv4 or IPv6 address or CIDR block; a "
	  "domain the envelope sender's domain and every subdomain of it. "
	  "A match adds POLICY_ALLOW_SENDER or POLICY_ALLOW_CLIENT (-100 "
	  "points), as the AllowSenders and AllowClients options do, and scan "
	  "names the entry that matched and its comment. "
	  "Adding an entry already there updates its comment and expiry. "
	  "The file is rewritten whole (a temporary file renamed over it, "
	  "keeping the old one's mode and owner; a new one gets 0644), then a "
	  "running vigil is asked to reload over its ControlSocket; the "
	  "daemon also re-reads the file at its next message when it changed.",
	  "0 ok, 64 usage, 65 a malformed value, 1 the file cannot be "
	  "written, 78 a malformed or unreadable ListsFile",
	  false,
	  { { "--comment TEXT", "why the entry is there, shown by scan and "
	      "list" },
	    { "--expires DUR", "stop applying after DUR (30d, 12h, 90m)" } } },
	{ "allow del", "sender|client|domain VALUE", NULL,
	  "Remove an entry from the allow list.",
	  "0 ok, 1 no such entry, 64 usage, 65 a malformed value, 78 a "
	  "malformed ListsFile",
	  false, { { NULL, NULL } } },
	{ "allow list", "[--json] [sender|client|domain]", NULL,
	  "The allow list's entries, each live or expired.",
	  NULL, false,
	  { { "--json", "one array of objects with list, kind, value, state, "
	      "expires (null for never), added and comment" } } },
	{ "block add",
	  "sender|client|domain VALUE [--comment TEXT] [--expires DUR]",
	  "the block list kept in ListsFile, as for allow",
	  "Add an entry to the block list, as for allow add: a match adds "
	  "POLICY_BLOCK_SENDER or POLICY_BLOCK_CLIENT and takes BlockAction "
	  "(reject by default), as the BlockSenders and BlockClients options "
	  "do.",
	  "0 ok, 64 usage, 65 a malformed value, 1 the file cannot be "
	  "written, 78 a malformed or unreadable ListsFile",
	  false,
	  { { "--comment TEXT", "why the entry is there, shown by scan and "
	      "list" },
	    { "--expires DUR", "stop applying after DUR (30d, 12h, 90m)" } } },
	{ "block del", "sender|client|domain VALUE", NULL,
	  "Remove an entry from the block list.",
	  "0 ok, 1 no such entry, 64 usage, 65 a malformed value, 78 a "
	  "malformed ListsFile",
	  false, { { NULL, NULL } } },
	{ "block list", "[--json] [sender|client|domain]", NULL,
	  "The block list's entries, each live or expired.",
	  NULL, false,
	  { { "--json", "one array of objects with list, kind, value, state, "
	      "expires (null for never), added and comment" } } },
	{ "report", "[--since DUR] [--until TIME] [--log FILE] [--html FILE]",
	  "what the filter did, from LogFile, against the period before",
	  "What the filter did over the period (DUR in s, m, h, d or w; "
	  "default 7d) up to now or to TIME (2026-12-07T00:00:00Z, or "
	  "@SECONDS), from LogFile (LogFormat json), each figure against "
	  "the period before: volume by day and by hour, the share of each "
	  "action, the top rules by hits and by false positives, the top "
	  "rejected client networks and sender domains, Bayes readiness, AV "
	  "detections by signature, check failures and DNS list health.",
	  "0 ok, 64 usage, 66 no log, 73 the page cannot be written",
	  false,
	  { { "--since DUR", "the period (7d)" },
	    { "--until TIME", "its end (now)" },
	    { "--log FILE", "vigil's JSON log (default: LogFile)" },
	    { "--html FILE", "also write the report as one self-contained "
	      "HTML page with SVG plots (no scripts, fonts or other "
	      "files)" } } },
	{ NULL, NULL, NULL, NULL, NULL, false, { { NULL, NULL } } },
};

/* vigilctl's exit statuses, as sysexits(3) names them. */
const struct ctl_help_exit ctl_help_exits[] = {
	{ 0, "ok" },
	{ 1, "the answer is no (lint found errors, a rule did not hit, "
	  "scan --check found spam, replay found changes, an operation was "
	  "refused or failed)" },
	{ 64, "usage" },
	{ 65, "bad data (no such rule, input that is not mail, release of "
	  "a deleted quarantine entry)" },
	{ 66, "an input is missing" },
	{ 69, "the daemon's ControlSocket is unreachable" },
	{ 73, "an output file cannot be made" },
	{ 78, "the configuration does not load" },
	{ -1, NULL },
};
