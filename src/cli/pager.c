/*
 * pager.c — the pager of long output for people: which command (as git:
 * $QUARRY_PAGER, $PAGER, "less -R"; empty or "cat" for none), starting it
 * with stdout as its input only when stdout is a terminal, and waiting for
 * it, also when a signal ends quarry first. Owns nothing beyond the
 * cli_pager the caller holds; no file-level state.
 */
#define _GNU_SOURCE
#include "cli/pager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int fatal_signals[4] = { SIGINT, SIGHUP, SIGTERM, SIGQUIT };

const char *cli_pager_command(void)
{
    const char *cmd = getenv("QUARRY_PAGER");
    if (!cmd)
        cmd = getenv("PAGER");
    if (!cmd)
        cmd = "less -R";
    if (cmd[strspn(cmd, " \t\n")] == '\0' || strcmp(cmd, "cat") == 0)
        return NULL;
    return cmd;
}

/* A fatal signal while the pager runs: end its input, wait until it has
 * left the terminal, then die of the signal (SA_RESETHAND restored the
 * default action; the signal is blocked until this handler returns). Only
 * async-signal-safe calls; the pager is this process's only child. */
static void on_fatal_signal(int sig)
{
    close(STDOUT_FILENO);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    raise(sig);
}

int cli_pager_start(cli_pager *p)
{
    if (p->pid > 0)
        return 1;
    if (p->off || !isatty(STDOUT_FILENO))
        return 0;
    const char *cmd = cli_pager_command();
    if (!cmd)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return 0;
    int terminal = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (terminal < 0) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        close(terminal);
        return 0;
    }
    if (pid == 0) {   /* the pager; the CLI is single-threaded here */
        dup2(fds[0], STDIN_FILENO);
        setenv("LESS", "FRX", 0);
        setenv("LV", "-c", 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);   /* without O_CLOEXEC */
    close(fds[1]);
    p->pid = pid;
    p->terminal = terminal;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++) {
        sigaction(fatal_signals[i], NULL, &p->old[i]);
        if (p->old[i].sa_handler == SIG_DFL)
            sigaction(fatal_signals[i], &sa, NULL);
    }
    return 1;
}

void cli_pager_end(cli_pager *p)
{
    if (p->pid <= 0)
        return;
    fflush(stdout);
    dup2(p->terminal, STDOUT_FILENO);   /* the last writer of the pipe: the pager reads EOF */
    close(p->terminal);
    clearerr(stdout);
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (p->old[i].sa_handler == SIG_DFL)
            sigaction(fatal_signals[i], &p->old[i], NULL);
    p->pid = 0;
}
