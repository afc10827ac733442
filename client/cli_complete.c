/*
 * cli_complete.c: `baobao completion bash`, the bash completion of
 * `baobao`, and the hidden `baobao completion values KIND` it calls.
 *
 * For: writing the completion script from the command's own tables, so
 * that it never drifts from what the command accepts: the top-level words
 * (cli_commands), each group's commands (cli_commands[].subs), each
 * command's options as its parser builds them from the method spec
 * (cli_mech_each_opt, cli_spec.c), call's methods and their options, the
 * global options, and the values an option may take: the spec's allowed
 * values, true/false, and reference data (townships, clusters, labels,
 * ...). Reference values are data an admin changes, so the script does
 * not hold them: while completing it runs `baobao completion values KIND`,
 * which asks the server (ref.list) quietly, with a short timeout, as the
 * user on the line (the stored session, or the password from the
 * environment or the config file); it never prompts and never prints an
 * error, so a completion that cannot ask offers nothing.
 * meson runs `baobao completion bash` at build time and installs the
 * script as datadir/bash-completion/completions/baobao.
 * Not for: parsing (cli_opts.c, cli_spec.c) or the reference data itself
 * (ref.list, PROTOCOL.md "Reference data").
 */
#include "cli.h"

#include "i18n.h"

#include "bb_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* `completion values` waits this long to connect and for each reply
 * unless --timeout is given: a completion holds up the user's typing, and
 * a server that does not answer at once gets no second chance. */
#define CLI_COMPLETE_TIMEOUT_MS 2000
/* The longest command line a completion key names ("call METHOD"). */
#define KEY_MAX 128


/* ---- the global options ----
 *
 * What completion needs to know of each: whether it takes a value and
 * which, and whether `completion values` must be given it (it says where
 * the server is and who asks). Only those cli_is_global accepts are
 * written, so an option this list knows and the parser does not is never
 * offered. */
typedef enum gkind {
    G_FLAG = 0,
    G_TEXT,     /* a value, nothing to offer */
    G_FILE,     /* a file name */
    G_CHOICE,   /* one of choices */
} gkind;

static const char *const color_whens[] = {"auto", "always", "never", NULL};
static const char *const langs[] = {"zh", "en", NULL};

static const struct global {
    const char *name;
    gkind kind;
    const char *const *choices;
    bool forward;   /* passed on to `completion values` */
} globals[] = {
    {"--server", G_TEXT, NULL, true},      {"--user", G_TEXT, NULL, true},
    {"--tls", G_FLAG, NULL, true},         {"--ca", G_FILE, NULL, true},
    {"--server-name", G_TEXT, NULL, true}, {"--json", G_FLAG, NULL, false},
    {"--timeout", G_TEXT, NULL, false},    {"--color", G_CHOICE, color_whens, false},
    {"--lang", G_CHOICE, langs, false},    {"--help", G_FLAG, NULL, false},
};
#define NGLOBALS (sizeof globals / sizeof globals[0])

/* ---- writing shell text ---- */

/* s as one shell word: in single quotes, a quote as '\''. */
static void put_word(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The kinds of reference data: the allowed values of ref.list's `kind`
 * (the spec's list, never one of ours); NULL when the spec has none. */
static const char *const *ref_kinds(void)
{
    const bb_method_spec *rl = bb_spec_find("ref.list", strlen("ref.list"));
    const bb_arg *k = rl != NULL ? bb_spec_arg(rl, "kind", strlen("kind")) : NULL;
    return k != NULL ? k->values : NULL;
}

/* The reference kind whose current values an argument takes: its `ref`;
 * else, for a text named for a kind (the `township` filter of
 * enterprise.list, `labels`: an open list whose usual values are the
 * kind `label`), that kind. NULL: none. */
static const char *ref_kind(const bb_arg *a)
{
    if (a->type != BB_T_STR && a->type != BB_T_STRS)
        return NULL;
    if (a->ref != NULL)
        return a->ref;
    size_t n = strlen(a->name);
    for (const char *const *k = ref_kinds(); k != NULL && *k != NULL; k++)
        if (strcmp(*k, a->name) == 0 ||
            (n > 1 && a->name[n - 1] == 's' && strlen(*k) == n - 1 &&
             strncmp(*k, a->name, n - 1) == 0))
            return *k;
    return NULL;
}

/* The shell command that offers the values of an option's argument, as a
 * malloc'd string; *none when there is nothing to offer (NULL returned
 * then and on no memory). */
static char *values_cmd(const bb_arg *a, bool *none)
{
    const char *kind = a != NULL ? ref_kind(a) : NULL;
    *none = a == NULL || (a->values == NULL && a->type != BB_T_BOOL && kind == NULL);
    if (*none)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    if (a->values != NULL) {
        fputs("_baobao_add", f);
        for (const char *const *v = a->values; *v != NULL; v++) {
            fputc(' ', f);
            put_word(f, *v);
        }
    } else if (a->type == BB_T_BOOL) {
        fputs("_baobao_add true false", f);
    } else {
        fputs("_baobao_ref ", f);
        put_word(f, kind);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- the commands and their options ---- */

/* An option's values to offer on one command line: the case pattern
 * ('status submit --production-status') and the command. */
typedef struct choice {
    char *pat;
    char *how;
} choice;

typedef struct gen {
    FILE *out;
    const char *key;       /* "status submit", "call status.submit" */
    bool own_parser;       /* the command parses its own options (a run
                              function): their names only, values unknown */
    bool values;           /* the pass that writes the options with a value */
    bool first;
    choice *ch;
    size_t nch, cap;
    bool failed;           /* no memory */
} gen;

static void add_choice(gen *g, const cli_opt *o, const bb_arg *arg)
{
    bool none;
    char *how = values_cmd(arg, &none);
    if (none)
        return;
    char *pat = NULL;
    size_t len = 0;
    FILE *f = how != NULL ? open_memstream(&pat, &len) : NULL;
    if (f != NULL) {
        char key[KEY_MAX + 80];
        snprintf(key, sizeof key, "%s %s", g->key, o->name);
        put_word(f, key);
        if (fclose(f) != 0) {
            free(pat);
            pat = NULL;
        }
    }
    if (pat != NULL && g->nch == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        choice *ch = realloc(g->ch, cap * sizeof *ch);
        if (ch != NULL) {
            g->ch = ch;
            g->cap = cap;
        }
    }
    if (pat == NULL || g->nch == g->cap) {
        free(how);
        free(pat);
        g->failed = true;
        return;
    }
    g->ch[g->nch++] = (choice){pat, how};
}

/* One option of the command of g->key (cli_mech_each_opt): its name in
 * the first pass; in the second, its name again when it takes a value,
 * with what that value may be. */
static void each_opt(void *data, const cli_opt *o, const bb_arg *arg)
{
    gen *g = data;
    bool takes = o->metavar != NULL && !g->own_parser;
    if (g->values && !takes)
        return;
    fprintf(g->out, g->first ? "%s" : " %s", o->name);
    g->first = false;
    if (g->values)
        add_choice(g, o, arg);
}

/* The `_baobao_spec` arm of one command line. */
static void spec_arm(gen *g, const char *key, const cli_mech *m)
{
    g->key = key;
    g->own_parser = m->run != NULL;
    fprintf(g->out, "    ");
    put_word(g->out, key);
    fprintf(g->out, ") _o='");
    g->first = true;
    g->values = false;
    if (cli_mech_each_opt(m, each_opt, g) < 0)
        g->failed = true;
    fprintf(g->out, "' _v=' ");
    g->first = true;
    g->values = true;
    if (cli_mech_each_opt(m, each_opt, g) < 0)
        g->failed = true;
    fprintf(g->out, " ' ;;\n");
}

/* `baobao call METHOD`: the command of cli_commands that is call. */
static bool has_call(void)
{
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        if (c->run == cli_call_cmd)
            return true;
    return false;
}

static void write_spec(gen *g)
{
    fputs("# The options of a command line (\"status submit\", \"call status.submit\"):\n"
          "# _o all of them, _v those that take a value.\n"
          "_baobao_spec()\n{\n    case $1 in\n", g->out);
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        for (const cli_mech *m = c->subs; m != NULL && m->cmd != NULL; m++)
            spec_arm(g, m->cmd, m);
    bool call = has_call();
    for (size_t i = 0; call && bb_spec_tables[i] != NULL; i++)
        for (const bb_method_spec *ms = bb_spec_tables[i]; ms->name != NULL; ms++) {
            char key[KEY_MAX];
            snprintf(key, sizeof key, "call %s", ms->name);
            cli_mech m = {.cmd = key, .method = ms->name};
            spec_arm(g, key, &m);
        }
    fputs("    *) _o= _v= ;;\n    esac\n}\n\n", g->out);
}

/* The word of a group's command ("status submit" -> "submit"). */
static const char *sub_word(const cli_mech *m)
{
    const char *sp = strchr(m->cmd, ' ');
    return sp != NULL ? sp + 1 : m->cmd;
}

static void write_subs(FILE *out)
{
    fputs("# The words that follow a command: a group's commands, call's methods.\n"
          "_baobao_subs()\n{\n    case $1 in\n", out);
    for (const cli_command *c = cli_commands; c->name != NULL; c++) {
        if (c->subs != NULL) {
            fputs("    ", out);
            put_word(out, c->name);
            fputs(") _s='", out);
            for (const cli_mech *m = c->subs; m->cmd != NULL; m++)
                fprintf(out, m == c->subs ? "%s" : " %s", sub_word(m));
            fputs("' ;;\n", out);
        } else if (c->run == cli_call_cmd) {
            fputs("    ", out);
            put_word(out, c->name);
            fputs(") _s='", out);
            bool first = true;
            for (size_t i = 0; bb_spec_tables[i] != NULL; i++)
                for (const bb_method_spec *ms = bb_spec_tables[i]; ms->name != NULL; ms++) {
                    fprintf(out, first ? "%s" : " %s", ms->name);
                    first = false;
                }
            fputs("' ;;\n", out);
        } else if (c->run == cli_completion) {
            fputs("    ", out);
            put_word(out, c->name);
            fputs(") _s='bash' ;;\n", out);   /* `values` is the script's own */
        }
    }
    fputs("    *) return 1 ;;\n    esac\n}\n\n", out);
}

/* The options' values, one arm per way of offering them, with every
 * command line that offers them so. */
static bool write_choices(FILE *out, const gen *g)
{
    bool *done = calloc(g->nch + 1, sizeof *done);
    if (done == NULL)
        return false;
    fputs("# What the value of an option may be (\"user create --role\").\n"
          "_baobao_choices()\n{\n    case $1 in\n", out);
    for (size_t i = 0; i < g->nch; i++) {
        if (done[i])
            continue;
        fprintf(out, "    %s", g->ch[i].pat);
        for (size_t j = i + 1; j < g->nch; j++)
            if (!done[j] && strcmp(g->ch[i].how, g->ch[j].how) == 0) {
                fprintf(out, "|\\\n    %s", g->ch[j].pat);
                done[j] = true;
            }
        fprintf(out, ")\n        %s ;;\n", g->ch[i].how);
    }
    fputs("    esac\n}\n\n", out);
    free(done);
    return true;
}

/* The global options: the words offered, those that take a value, those
 * passed on to `completion values`, and what their values may be. */
static void write_globals(FILE *out)
{
    fputs("_baobao_globals='", out);
    bool first = true;
    for (size_t i = 0; i < NGLOBALS; i++)
        if (cli_is_global(globals[i].name)) {
            fprintf(out, first ? "%s" : " %s", globals[i].name);
            first = false;
        }
    fputs("'\n_baobao_gv=' ", out);
    for (size_t i = 0; i < NGLOBALS; i++)
        if (cli_is_global(globals[i].name) && globals[i].kind != G_FLAG)
            fprintf(out, "%s ", globals[i].name);
    fputs("'\n\n# Keeps a global option of the line for `completion values` (where the\n"
          "# server is and who asks).\n_baobao_keep()\n{\n    case $1 in\n", out);
    for (size_t i = 0; i < NGLOBALS; i++) {
        if (!cli_is_global(globals[i].name) || !globals[i].forward)
            continue;
        fprintf(out, "    %s) gopts+=(%s) ;;\n", globals[i].name,
                globals[i].kind == G_FLAG ? "\"$1\"" : "\"$1=$2\"");
    }
    fputs("    esac\n}\n\n# The values of option $2 on the command line $1.\n"
          "_baobao_value()\n{\n    case $2 in\n", out);
    for (size_t i = 0; i < NGLOBALS; i++) {
        const struct global *gl = &globals[i];
        if (!cli_is_global(gl->name) || (gl->kind != G_CHOICE && gl->kind != G_FILE))
            continue;
        fprintf(out, "    %s) ", gl->name);
        if (gl->kind == G_FILE) {
            fputs("_baobao_files", out);
        } else {
            fputs("_baobao_add", out);
            for (const char *const *v = gl->choices; *v != NULL; v++) {
                fputc(' ', out);
                put_word(out, *v);
            }
        }
        fputs(" ;;\n", out);
    }
    fputs("    *) _baobao_choices \"$1 $2\" ;;\n    esac\n}\n\n", out);
}

static const char script_head[] =
    "# bash completion for baobao                              -*- shell-script -*-\n"
    "#\n"
    "# Written by `baobao completion bash` from the command's own tables: its\n"
    "# commands, each command's options (from the method spec), the values an\n"
    "# option allows. Reference values (townships, clusters, labels, ...) are\n"
    "# asked of the server while completing (`baobao completion values KIND`).\n"
    "# Regenerate it rather than edit it.\n"
    "\n"
    "# Adds the words of \"$@\" that start with $cur to COMPREPLY, in quotes when\n"
    "# one holds a character the shell would read.\n"
    "_baobao_add()\n"
    "{\n"
    "    [[ -n $_baobao_probe ]] && return 0\n"
    "    local w\n"
    "    for w in \"$@\"; do\n"
    "        [[ $w == \"$cur\"* ]] || continue\n"
    "        case $w in\n"
    "        *[[:space:]\\'\\\"\\\\\\$\\`\\;\\&\\|\\<\\>\\(\\)\\*\\?\\[\\]\\#\\~\\{\\}\\!]*)\n"
    "            w=\"'${w//\\'/\\'\\\\\\'\\'}'\" ;;\n"
    "        esac\n"
    "        COMPREPLY+=(\"$pre$w\")\n"
    "    done\n"
    "}\n"
    "\n"
    "# The current values of a kind of reference data, asked of the server as\n"
    "# the user on the line; nothing when that cannot be done quietly and fast.\n"
    "_baobao_ref()\n"
    "{\n"
    "    [[ -n $_baobao_probe ]] && return 0\n"
    "    local bin=${COMP_WORDS[0]}\n"
    "    local -a vals=()\n"
    "    [[ $bin == '~/'* ]] && bin=$HOME/${bin#'~/'}\n"
    "    mapfile -t vals < <(\"$bin\" \"${gopts[@]}\" completion values \"$1\" 2>/dev/null </dev/null)\n"
    "    _baobao_add \"${vals[@]}\"\n"
    "}\n"
    "\n"
    "_baobao_files()\n"
    "{\n"
    "    [[ -n $_baobao_probe ]] && return 0\n"
    "    compopt -o filenames 2>/dev/null\n"
    "    mapfile -t -O \"${#COMPREPLY[@]}\" COMPREPLY < <(compgen -f -- \"$cur\")\n"
    "}\n"
    "\n"
    "# Whether option $1 takes a value on the line so far.\n"
    "_baobao_takes()\n"
    "{\n"
    "    [[ \"$_baobao_gv$_v\" == *\" $1 \"* ]]\n"
    "}\n"
    "\n";

static const char script_main[] =
    "# The words before the one being completed, as the user typed them: bash\n"
    "# also cuts words at the characters of COMP_WORDBREAKS, so --server\n"
    "# 127.0.0.1:7420 arrives as --server, 127.0.0.1, :, 7420; the pieces around\n"
    "# a \":\" with no blank between them are joined again (\"=\" is read below).\n"
    "_baobao_join()\n"
    "{\n"
    "    local line=$COMP_LINE w blank prev= k\n"
    "    words=()\n"
    "    for (( k = 0; k < COMP_CWORD; k++ )); do\n"
    "        w=${COMP_WORDS[k]}\n"
    "        blank=${line%%[![:space:]]*}\n"
    "        line=${line:${#blank}}\n"
    "        if (( ${#words[@]} > 0 )) && [[ -z $blank && ( $w == : || $prev == : ) ]]; then\n"
    "            words[${#words[@]}-1]+=$w\n"
    "        else\n"
    "            words+=(\"$w\")\n"
    "        fi\n"
    "        line=${line:${#w}}\n"
    "        prev=$w\n"
    "    done\n"
    "}\n"
    "\n"
    "_baobao()\n"
    "{\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} pre= opt= cmd= sub= key= ends=\n"
    "    local _o= _v= _s= _baobao_probe= w i=1 n\n"
    "    local -a words=() gopts=()\n"
    "    COMPREPLY=()\n"
    "    _baobao_join\n"
    "    n=${#words[@]}\n"
    "    # bash splits \"--opt=value\" at the \"=\" (COMP_WORDBREAKS): --opt, =, value;\n"
    "    # without that, the value is the part after it.\n"
    "    if [[ $cur == = ]]; then\n"
    "        cur=\n"
    "    elif [[ $cur == --*=* ]]; then\n"
    "        opt=${cur%%=*} pre=${cur%%=*}= cur=${cur#*=}\n"
    "    fi\n"
    "    # The command, its subcommand (or call's method), the global options\n"
    "    # given, and whether the word being completed is an option's value.\n"
    "    while (( i < n )); do\n"
    "        w=${words[i]}\n"
    "        if [[ -z $ends && $w == -?* ]]; then\n"
    "            if [[ $w == -- ]]; then\n"
    "                ends=1\n"
    "            elif [[ $w == --*=* ]]; then\n"
    "                _baobao_keep \"${w%%=*}\" \"${w#*=}\"\n"
    "            elif _baobao_takes \"$w\"; then\n"
    "                (( i + 1 < n )) && [[ ${words[i+1]} == = ]] && i=$((i + 1))\n"
    "                if (( i + 1 == n )); then\n"
    "                    opt=$w\n"
    "                else\n"
    "                    _baobao_keep \"$w\" \"${words[i+1]}\"\n"
    "                fi\n"
    "                i=$((i + 1))\n"
    "            else\n"
    "                _baobao_keep \"$w\" ''\n"
    "            fi\n"
    "        elif [[ -z $cmd ]]; then\n"
    "            cmd=$w key=$w\n"
    "            _baobao_spec \"$key\"\n"
    "        elif [[ -z $sub ]] && _baobao_subs \"$cmd\"; then\n"
    "            sub=$w key=\"$cmd $w\"\n"
    "            _baobao_spec \"$key\"\n"
    "        fi\n"
    "        i=$((i + 1))\n"
    "    done\n"
    "    if [[ -n $opt ]]; then\n"
    "        _baobao_value \"$key\" \"$opt\"\n"
    "    elif [[ -z $ends && $cur == -* ]]; then\n"
    "        _baobao_add $_baobao_globals $_o\n"
    "    elif [[ -z $cmd ]]; then\n"
    "        _baobao_add $_baobao_commands\n"
    "    elif _baobao_subs \"$cmd\"; then\n"
    "        [[ -z $sub ]] && _baobao_add $_s\n"
    "    else\n"
    "        _baobao_files\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "complete -F _baobao baobao\n";

/* Writes the whole script to stdout. */
static int write_script(void)
{
    FILE *out = stdout;
    gen g = {.out = out};
    fputs(script_head, out);
    fputs("_baobao_commands='", out);
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        fprintf(out, c == cli_commands ? "%s" : " %s", c->name);
    fputs("'\n", out);
    write_globals(out);
    write_subs(out);
    write_spec(&g);
    if (!g.failed && !write_choices(out, &g))
        g.failed = true;
    for (size_t i = 0; i < g.nch; i++) {
        free(g.ch[i].pat);
        free(g.ch[i].how);
    }
    free(g.ch);
    if (g.failed)
        return cli_oom();
    fputs(script_main, out);
    return CLI_EXIT_OK;
}

/* ---- completion values KIND ---- */

/*
 * Leaves the controlling terminal, so that nothing below can ask for a
 * password (cli_prompt_password reads /dev/tty, which a process without
 * one cannot open): a completion runs while the user types. A process
 * group leader (run by hand from an interactive shell) cannot start a
 * session of its own; a child then does the work. Returns 0 in the
 * process that goes on, 1 in a parent that is done (*status its exit
 * code), -1 on failure.
 */
static int leave_terminal(int *status)
{
    if (setsid() >= 0)
        return 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        return setsid() >= 0 ? 0 : -1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : CLI_EXIT_PROTOCOL;
    return 1;
}

/* The current (not retired) values of kind, one a line, in the order the
 * server gives (sort_order). Prints nothing else, ever: a failure is only
 * the exit code. */
static int print_values(cli_ctx *ctx, const char *kind)
{
    bool known = false;
    for (const char *const *k = ref_kinds(); k != NULL && *k != NULL; k++)
        known = known || strcmp(*k, kind) == 0;
    if (!known)
        return CLI_EXIT_USAGE;
    int status = 0;
    int left = leave_terminal(&status);
    if (left != 0)
        return left > 0 ? status : CLI_EXIT_USAGE;
    if (ctx->timeout_ms == BB_CLIENT_DEFAULT_TIMEOUT_MS)
        ctx->timeout_ms = CLI_COMPLETE_TIMEOUT_MS;
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "kind", kind);
    bbi_args a;
    bbi_args_init(&a);
    bb_error err;
    bb_reply *r = NULL;
    int rc = bbi_pack(&a, "ref.list", &k, &err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "ref.list", &a, false, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_exit_code(&err);
    const msgpack_object *items = bb_map_get(bb_reply_result(r), "items");
    for (uint32_t i = 0; items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
                         i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        const msgpack_object *v = bb_map_get(it, "value");
        const msgpack_object *retired = bb_map_get(it, "retired");
        if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
            (retired != NULL && retired->type == MSGPACK_OBJECT_BOOLEAN && retired->via.boolean))
            continue;
        printf("%.*s\n", (int)v->via.str.size, v->via.str.ptr);
    }
    bb_reply_free(r);
    return CLI_EXIT_OK;
}

/* ---- baobao completion ---- */

static const char *const completion_help = N_(
    "Usage: baobao completion bash\n"
    "\n"
    "Prints the bash completion script of baobao: TAB completes commands,\n"
    "options, the values an option allows, and reference data (townships,\n"
    "clusters, labels, ...), which it asks the server for as you type, as\n"
    "the user you are logged in as (nothing is offered when that needs a\n"
    "password prompt).\n"
    "\n"
    "Installed with baobao, it works by itself where the bash-completion\n"
    "package is set up. Otherwise add this line to ~/.bashrc:\n"
    "  source <(baobao completion bash)\n");

int cli_completion(cli_ctx *ctx, int argc, char **argv)
{
    const char *help = _(completion_help);
    int first;
    int rc = cli_parse_word(ctx, argc, argv, "completion", help,
                            _("missing the shell (bash)"), &first);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    const char *what = argv[first];
    const char *pos[1];
    size_t npos = 0;
    bool values = strcmp(what, "values") == 0;
    if (!values && strcmp(what, "bash") != 0)
        return cli_usage_error("completion", _("no completion for \"%s\" (only: bash)"), what);
    rc = cli_parse(ctx, argc - first - 1, argv + first + 1, NULL, 0, pos, values ? 1 : 0,
                   &npos, "completion", help);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (!values)
        return write_script();
    /* Hidden: what the script runs. Quiet, whatever happens. */
    return npos == 1 ? print_values(ctx, pos[0]) : CLI_EXIT_USAGE;
}
