/*
 * pager.h — long output for people goes through a pager when stdout is a
 * terminal, as git does (pager.c).
 */
#ifndef QUARRY_CLI_PAGER_H
#define QUARRY_CLI_PAGER_H

#include <signal.h>
#include <sys/types.h>

typedef struct cli_pager {
    int off;                    /* 1: never start one (--no-pager) */
    pid_t pid;                  /* the running pager, 0 when none */
    int terminal;               /* while it runs: a descriptor of the terminal stdout was */
    struct sigaction old[4];    /* dispositions replaced while it runs */
} cli_pager;

/* The pager command: $QUARRY_PAGER when set, else $PAGER when set, else
 * "less -R"; NULL when that is empty, blank or "cat" (no pager). */
const char *cli_pager_command(void);

/* Starts the pager unless one runs already, p->off is set, stdout is not a
 * terminal or cli_pager_command() is NULL. The command runs with /bin/sh -c,
 * with LESS=FRX (quit when the text fits one screen, pass colours, keep the
 * screen) and LV=-c when they are unset, and fd 1 (stdio's stdout) becomes
 * the pipe into it. Until cli_pager_end, SIGINT, SIGHUP, SIGTERM and
 * SIGQUIT, where they are not caught already, first wait for the pager
 * then end the program, so that the terminal goes back to the shell only
 * when the pager has left it. Returns 1 when a pager runs, else 0 (stdout
 * unchanged; also when the pager cannot be started). */
int cli_pager_start(cli_pager *p);

/* Flushes stdout, closes the pager's input and waits for it to exit; stdout
 * is the terminal again and its error flag is cleared (a pager may quit
 * before reading everything). Does nothing when no pager runs. */
void cli_pager_end(cli_pager *p);

#endif
