/*
 * ctl_help.h - vigilctl's help, from one table (ctl_help.c) that also
 * makes the COMMANDS and EXIT STATUS sections of vigilctl(8) at build
 * time, so that the two cannot drift.
 */
#ifndef VIGIL_CTL_HELP_H
#define VIGIL_CTL_HELP_H

#include <stdbool.h>
#include <stdio.h>

/* One option of a command: "--ip ADDR", and a line saying what it does. */
struct ctl_help_opt {
	const char	*opt;
	const char	*desc;
};

/*
 * One entry: a command, or one form of it ("quarantine release").  The
 * synopsis is usage syntax: [optional], a|b, ARG, ARG... ; the text is
 * plain sentences, where --options, ARGs of the synopsis, configuration
 * keywords and page(N) references become the page's markup.
 */
struct ctl_help {
	const char	*cmd;		/* "scan", "quarantine list" */
	const char	*synopsis;	/* after the command */
	const char	*brief;		/* vigilctl -h; NULL: not listed */
	const char	*text;		/* help COMMAND and the page */
	const char	*exit;		/* its exit statuses, or NULL */
	/* -h is not help after the command's first argument (bayes
	 * learn -h is --ham); only the group's first entry says so. */
	bool		 h_is_option;
	struct ctl_help_opt opts[20];
};

/* The usage overview: `vigilctl -h`, `vigilctl help`. */
void	ctl_help_overview(FILE *);
/* The help of a command (every entry whose first word is cmd): false
 * when there is none. */
bool	ctl_help_command(const char *cmd, FILE *);
/* Has cmd an entry? */
bool	ctl_help_has(const char *cmd);
/* Its usage lines alone, for a usage error. */
void	ctl_help_usage(const char *cmd, FILE *);
/* Does argv (a command's) ask for help, as the table says -h reads? */
bool	ctl_help_wanted(int argc, char **argv);
/* The page's COMMANDS and EXIT STATUS sections, in mdoc. */
void	ctl_help_mdoc(FILE *);

#endif
