/*
 * state_dir.h: the CLI's private state folder, where `baobao` keeps what
 * belongs to one person on this computer (the saved sessions, the outbox,
 * guided entry's history).
 *
 * The folder is $XDG_STATE_HOME/baobao when XDG_STATE_HOME is an absolute
 * path, else $HOME/.local/state/baobao. It is made 0700 (its missing
 * parents too, as the XDG specification asks) and is used only when it is
 * a folder, not a symbolic link, owned by the caller, that neither group
 * nor others may write to: else another user could put a file or a link
 * of theirs in place of ours.
 *
 * Not for: the files in the folder or their checks, or what the user is
 * told when the folder cannot be had; each caller says that in its own
 * words (this file holds no messages).
 */
#ifndef BB_CLI_STATE_DIR_H
#define BB_CLI_STATE_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* What cli_state_dir_open found. */
typedef enum cli_state_dir_rc {
    CLI_STATE_DIR_OK = 0,
    CLI_STATE_DIR_EMAKE,        /* the folder could not be made (errno) */
    CLI_STATE_DIR_EOPEN,        /* it could not be opened as a folder (errno;
                                   ENOENT or ENOTDIR: there is none) */
    CLI_STATE_DIR_NOT_PRIVATE,  /* not ours, or others may write to it */
} cli_state_dir_rc;

/* The folder's path in out (cap bytes). false when neither variable can
 * give it, or it does not fit. */
__attribute__((warn_unused_result)) bool cli_state_dir(char *out, size_t cap);

/* Makes dir and its missing parents (0700) when make, then opens it
 * (O_DIRECTORY | O_NOFOLLOW) and checks that it is private. On
 * CLI_STATE_DIR_OK *fd is open (the caller closes it); otherwise *fd is
 * -1 and errno tells why for EMAKE and EOPEN. */
__attribute__((warn_unused_result)) cli_state_dir_rc cli_state_dir_open(const char *dir,
                                                                        bool make, int *fd);

#endif
