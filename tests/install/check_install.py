#!/usr/bin/env python3
"""check_install.py: baobao installed like a service (issue 14, item 8).

    check_install.py install SRC BUILD PREFIX BINDIR SBINDIR LIBDIR INCLUDEDIR
                             MANDIR SYSCONFDIR DATADIR UNITDIR SANITIZE CC...
    check_install.py config SRC BAOBAOD
    check_install.py journal BAOBAOD

install: `meson install --destdir` into a temporary folder (no root needed,
nothing outside it touched), then: every file where it belongs; the unit's
ExecStart is the installed baobaod and its --config the installed settings
file; `systemd-analyze verify` accepts the unit (in a root made of the
destdir and this machine's own units, so its commands and man page are
looked up in the installation) and `systemd-analyze security` rates the
sandbox "OK" or better; the man pages pass `groff -ww` without a warning;
a C program built with `pkg-config --cflags --libs baobao` against the
installed header and library runs; a reinstall keeps an edited
SYSCONFDIR/baobao/baobaod.conf. CC... is meson's whole compiler command
(e.g. `ccache gcc`), not only its first word. Exit 77 only when
systemd-analyze, man (which verify --man=yes runs) or groff is missing
(the test packages systemd, man-db and groff-base of scripts/lib.sh).

config: the example dist/baobaod.conf names every key of PROTOCOL.md
section 2 once, each commented-out value is that key's documented default,
baobaod(8) names every key with the same defaults, both pages' headers carry
the version `baobaod --version` prints, and baobaod takes the file
unchanged, and with every commented key uncommented (it gets past every
check of its settings to the migrations, which fail on a database that does
not exist: exit 1, never 2).

journal: under systemd (JOURNAL_STREAM naming stderr) log lines start with
the syslog priority and carry no ts=, and the reason of an exit 2 (a bad
setting, printed before logging starts) starts with <3>; with
JOURNAL_STREAM naming another file, or malformed, they keep ts=.

Not for: running the service under systemd (this machine's tests have no
systemd as PID 1).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
failures = []


def check(cond, what):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)
    return cond


def run(argv, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, **kw)


# ---------------------------------------------------------------- PROTOCOL.md

def protocol_settings(src):
    """{key: default} from the table of PROTOCOL.md section 2 (pairs such as
    `a` / `b` with defaults `1 / 2` split in two). Defaults are normalised:
    backticks dropped, "empty ..." is ""."""
    text = open(os.path.join(src, "proto", "PROTOCOL.md"), encoding="utf-8").read()
    sec = text[text.index("## 2. Limits"):text.index("**Command line.**")]
    out = {}
    for line in sec.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        keys = re.findall(r"`([a-z_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(" / ")] if len(keys) > 1 else [cells[1]]
        if len(defaults) != len(keys):
            defaults = [cells[1]] * len(keys)
        for k, d in zip(keys, defaults):
            d = d.replace("`", "").strip()
            if d.startswith("empty"):
                d = ""
            out[k] = d
    return out


def example_lines(path):
    """[(key, value, commented)] of a baobaod.conf: `key = value` lines and
    commented-out settings `#key = value` (prose comments are `# ...`)."""
    out = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^(#?)([a-z_]+) =(.*)$", line.rstrip("\n"))
        if m:
            out.append((m.group(2), m.group(3).strip(), m.group(1) == "#"))
    return out


def baobaod_takes(baobaod, conf, what):
    """baobaod --config conf gets past its settings: it logs event=starting
    (after every check of the settings, TLS, proxy_trusted, time zone and
    clock) and stops at the migrations (no database here): exit 1."""
    r = run([baobaod, "--config", conf, "--db", "host=/nonexistent-baobao-test dbname=none",
             "--migrate-only"], env=dict(os.environ, BAOBAO_LOG="info"))
    ok = r.returncode == 1 and "event=starting" in r.stderr and "event=migrate_failed" in r.stderr
    if not check(ok, what):
        print("  exit %d, stderr:\n%s" % (r.returncode, r.stderr[-2000:]))


def test_config(src, baobaod):
    example = os.path.join(src, "dist", "baobaod.conf")
    settings = protocol_settings(src)
    check(len(settings) > 50, "PROTOCOL.md section 2 read (%d keys)" % len(settings))
    lines = example_lines(example)
    seen = [k for k, _, _ in lines]
    missing = sorted(set(settings) - set(seen))
    extra = sorted(set(seen) - set(settings))
    twice = sorted({k for k in seen if seen.count(k) > 1})
    check(not missing, "the example names every key (missing: %s)" % missing)
    check(not extra, "the example names no key PROTOCOL.md lacks (extra: %s)" % extra)
    check(not twice, "the example names each key once (twice: %s)" % twice)
    wrong = ["%s = %r, documented %r" % (k, v, settings[k]) for k, v, c in lines
             if c and k in settings and v != settings[k]]
    check(not wrong, "every commented value is the documented default (%s)" % wrong)

    man = open(os.path.join(src, "docs", "man", "baobaod.8"), encoding="utf-8").read()
    absent = sorted(k for k in settings if not re.search(r"(?<![a-z_])%s(?![a-z_])" % k, man))
    check(not absent, "baobaod.8 names every key (absent: %s)" % absent)
    # Its headings `.BR key ", " key2 " = default, default2"` give the defaults.
    wrong = []
    for m in re.finditer(r'^\.BR (.*) " = ([^"]*)"$', man, re.M):
        keys = [k.strip().strip('"') for k in m.group(1).split('", "')]
        values = [v.strip() for v in m.group(2).split(", ")]
        if len(values) == 1:
            values = values * len(keys)
        for k, v in zip(keys, values):
            v = "" if v.startswith("(empty") else v
            if settings.get(k) != v:
                wrong.append("%s = %r, documented %r" % (k, v, settings.get(k)))
    check(not wrong, "baobaod.8's defaults are PROTOCOL.md's (%s)" % wrong)

    # The pages' headers carry the version: the one the programs print.
    r = run([baobaod, "--version"])
    version = r.stdout.split()[1] if r.returncode == 0 and len(r.stdout.split()) > 1 else "?"
    for page in ("baobaod.8", "baobao.1"):
        text = open(os.path.join(src, "docs", "man", page), encoding="utf-8").read()
        th = re.search(r'^\.TH \S+ \d+ "[^"]*" "baobao ([^"]+)"', text, re.M)
        check(th is not None and th.group(1) == version,
              "%s's .TH says baobao %s (%s)" % (page, version, th.group(1) if th else None))

    baobaod_takes(baobaod, example, "baobaod --config takes the example unchanged")
    with tempfile.TemporaryDirectory() as tmp:
        every = os.path.join(tmp, "every.conf")
        with open(every, "w", encoding="utf-8") as f:
            for line in open(example, encoding="utf-8"):
                f.write(re.sub(r"^#([a-z_]+ =)", r"\1", line))
        baobaod_takes(baobaod, every, "baobaod --config takes the example with every key uncommented")
        # The check above can fail: a bad value in the file is exit 2.
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w", encoding="utf-8") as f:
            f.write(open(example, encoding="utf-8").read() + "pool_size = many\n")
        r = run([baobaod, "--config", bad, "--migrate-only"])
        check(r.returncode == 2 and "pool_size" in r.stderr,
              "a bad value added to the example is refused (exit 2)")


# ------------------------------------------------------------------- journal

def test_journal(baobaod):
    def start(journal_stream_of, extra=()):
        """Runs a baobaod that fails at its migrations (two log lines: info
        starting, error migrate_failed) with stderr to a file; JOURNAL_STREAM
        is computed from that file by journal_stream_of(stat). extra: more
        arguments (a bad setting stops it earlier, exit 2)."""
        with tempfile.NamedTemporaryFile("w+", suffix=".log") as f:
            st = os.fstat(f.fileno())
            env = dict(os.environ, BAOBAO_LOG="info")
            env.pop("JOURNAL_STREAM", None)
            v = journal_stream_of(st)
            if v is not None:
                env["JOURNAL_STREAM"] = v
            r = subprocess.run([baobaod, "--db", "host=/nonexistent-baobao-test dbname=none",
                                "--migrate-only"] + list(extra), stderr=f, env=env,
                               timeout=60)
            f.seek(0)
            return r.returncode, f.read()

    rc, log = start(lambda st: "%d:%d" % (st.st_dev, st.st_ino))
    lines = log.splitlines()
    check(rc == 1, "journal: the run stops at the migrations (exit %d)" % rc)
    check(any(l.startswith("<6>level=info event=starting ") for l in lines),
          "journal: an info line starts with <6> and no ts=")
    check(any(l.startswith("<3>level=error event=migrate_failed ") for l in lines),
          "journal: an error line starts with <3>")
    check(lines and not any("ts=" in l.split(" ")[0] for l in lines),
          "journal: no line starts with ts=")
    if failures:
        print(log)

    # A bad setting is refused before logging starts (main.c's "baobaod:
    # ..." reasons, exit 2): under the journal an error too, not info.
    this_file = lambda st: "%d:%d" % (st.st_dev, st.st_ino)
    bad = ("--set", "pool_size=many")
    rc, log = start(this_file, bad)
    check(rc == 2 and log.startswith("<3>baobaod: ") and "pool_size" in log,
          "journal: a refused setting (exit %d) starts with <3>: %r" % (rc, log[:120]))
    rc, log = start(lambda st: None, bad)
    check(rc == 2 and log.startswith("baobaod: ") and "pool_size" in log,
          "no journal: a refused setting (exit %d) starts with baobaod: %r" % (rc, log[:120]))

    for what, f in (("another file", lambda st: "%d:%d" % (st.st_dev, st.st_ino + 1)),
                    ("malformed", lambda st: "%d:%dx" % (st.st_dev, st.st_ino)),
                    ("unset", lambda st: None)):
        rc, log = start(f)
        lines = log.splitlines()
        check(lines and all(re.match(r"^ts=\S+ level=(debug|info|warn|error) event=", l)
                            for l in lines),
              "JOURNAL_STREAM %s: every line starts with ts= and level=" % what)


# ------------------------------------------------------------------- install

def test_install(a):
    (src, build, prefix, bindir, sbindir, libdir, includedir, mandir, sysconfdir,
     datadir, unitdir, sanitize) = a[:12]
    cc = a[12:]   # the compiler's whole command: "ccache gcc" is two words
    analyze = shutil.which("systemd-analyze")
    groff = shutil.which("groff")
    # verify --man=yes runs `man` for Documentation=; without it the unit
    # would fail verify for a reason that is not the unit's.
    man = shutil.which("man")
    if analyze is None or groff is None or man is None:
        print("systemd-analyze, man or groff missing: skipped (install the test packages "
              "systemd, man-db, groff-base)")
        return SKIP
    meson = shutil.which("meson")

    def under(d):
        return d if os.path.isabs(d) else os.path.join(prefix, d)

    tmp = tempfile.mkdtemp(prefix="bb-install-")
    try:
        dest = os.path.join(tmp, "root")

        def install():
            r = run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild"],
                    timeout=300)
            if not check(r.returncode == 0, "meson install --destdir"):
                print(r.stdout[-3000:], r.stderr[-3000:])
            return r

        install()
        D = lambda p: dest + p  # an installed path inside the destdir
        sbin_baobaod = os.path.join(under(sbindir), "baobaod")
        conf = os.path.join(under(sysconfdir), "baobao", "baobaod.conf")
        unit = os.path.join(under(unitdir), "baobaod.service")
        doc_example = os.path.join(under(datadir), "doc", "baobao", "examples", "baobaod.conf")
        lib = os.path.join(under(libdir), "libbaobao.so")
        files = {
            sbin_baobaod: "the server",
            os.path.join(under(bindir), "baobao"): "the CLI",
            lib + ".1": "libbaobao (soname)",
            lib: "libbaobao (link for -lbaobao)",
            os.path.join(under(includedir), "baobao.h"): "the header",
            os.path.join(under(libdir), "pkgconfig", "baobao.pc"): "the pkg-config file",
            os.path.join(under(mandir), "man8", "baobaod.8"): "baobaod(8)",
            os.path.join(under(mandir), "man1", "baobao.1"): "baobao(1)",
            unit: "the systemd unit",
            conf: "the settings file",
            doc_example: "the example settings with the documentation",
            os.path.join(under(datadir), "bash-completion", "completions", "baobao"): "bash completion",
            os.path.join(under(datadir), "locale", "zh_CN", "LC_MESSAGES", "baobao.mo"): "the Chinese catalogue",
        }
        for p, what in files.items():
            check(os.path.exists(D(p)), "installed: %s (%s)" % (p, what))
        check(os.access(D(sbin_baobaod), os.X_OK), "baobaod is executable")
        example = open(os.path.join(src, "dist", "baobaod.conf"), encoding="utf-8").read()
        check(open(D(conf), encoding="utf-8").read() == example, "the settings file is the example")
        check((os.stat(D(conf)).st_mode & 0o777) == 0o644, "the settings file is 0644")

        # The unit runs what was installed, with the installed settings.
        u = open(D(unit), encoding="utf-8").read()
        m = re.search(r"^ExecStart=(\S+) --config (\S+)$", u, re.M)
        check(m is not None and m.group(1) == sbin_baobaod,
              "ExecStart is the installed baobaod (%s)" % (m.group(1) if m else None))
        check(m is not None and m.group(2) == conf, "--config is the installed settings file")
        for want in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "StateDirectory=baobao", "PrivateTmp=yes"):
            check(re.search(r"^%s$" % re.escape(want), u, re.M) is not None, "unit: " + want)
        check(re.search(r"@[A-Z_]+@", u) is None, "unit: no @PLACEHOLDER@ left")

        # systemd-analyze verify in a root made of the installation and this
        # machine's units (the targets the unit is ordered against): the
        # command and the man page of Documentation= are looked up there.
        root = os.path.join(tmp, "verify-root")
        shutil.copytree(dest, root, symlinks=True)
        for sysdir in ("/usr/lib/systemd/system", "/lib/systemd/system"):
            if os.path.isdir(sysdir) and not os.path.islink(sysdir):
                shutil.copytree(sysdir, root + sysdir, symlinks=True, dirs_exist_ok=True)
                break
        env = dict(os.environ, MANPATH=root + under(mandir), SYSTEMD_LOG_COLOR="0")
        r = run([analyze, "verify", "--man=yes", "--root=" + root, unit], env=env)
        # verify exits 0 on a value it ignores ("Failed to parse ...,
        # ignoring"): any output is a failure too.
        out = (r.stdout + r.stderr).strip()
        if not check(r.returncode == 0 and out == "", "systemd-analyze verify accepts the unit"):
            print("  exit %d: %s" % (r.returncode, out))
        r = run([analyze, "security", "--offline=true", "--threshold=20", "--no-pager",
                 "--root=" + root, unit], env=env)
        score = re.search(r"Overall exposure level for baobaod.service: (\S+ \S+)", r.stdout)
        if not check(r.returncode == 0, "systemd-analyze security: exposure at most 2.0 (%s)"
                     % (score.group(1) if score else "?")):
            print(r.stdout[-3000:], r.stderr[-1000:])

        # The man pages: troff without a warning, UTF-8 through preconv (-k).
        for page in ("man8/baobaod.8", "man1/baobao.1"):
            r = run([groff, "-k", "-Tutf8", "-man", "-ww", "-z", D(os.path.join(under(mandir), page))])
            if not check(r.returncode == 0 and r.stderr.strip() == "", "groff -ww: " + page):
                print(r.stderr)

        # pkg-config: a program using the installed header and library.
        pcdir = D(os.path.join(under(libdir), "pkgconfig"))
        penv = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=dest)
        r = run(["pkg-config", "--cflags", "--libs", "baobao"], env=penv)
        check(r.returncode == 0, "pkg-config --cflags --libs baobao")
        flags = r.stdout.split()
        check("-I" + D(under(includedir)) in flags or D(under(includedir)) in r.stdout,
              "pkg-config's -I is the installed include folder (%s)" % r.stdout.strip())
        prog = os.path.join(tmp, "client.c")
        with open(prog, "w") as f:
            f.write(r'''#include <baobao.h>
#include <stdio.h>
#include <string.h>
/* Nobody listens on port 1: the library must say connect_failed. */
int main(void)
{
    bb_error err;
    bb_client *c = bb_connect("127.0.0.1:1", 2000, &err);
    if (c != NULL) {
        bb_close(c);
        return 1;
    }
    printf("%s\n", err.code);
    return strcmp(err.code, "connect_failed") == 0 ? 0 : 1;
}
''')
        exe = os.path.join(tmp, "client")
        san = [] if sanitize in ("", "none") else ["-fsanitize=" + sanitize]
        r = run(cc + ["-std=c11", "-Wall", "-Werror", prog, "-o", exe] + san + flags)
        if check(r.returncode == 0, "a client program builds with pkg-config's flags"):
            renv = dict(os.environ, LD_LIBRARY_PATH=D(under(libdir)))
            r = run([exe], env=renv)
            check(r.returncode == 0 and r.stdout.strip() == "connect_failed",
                  "it runs against the installed libbaobao (%r)" % r.stdout.strip())
            r = run(["ldd", exe], env=renv)
            check(D(under(libdir)) + "/libbaobao.so.1" in r.stdout,
                  "it loads the installed libbaobao.so.1")
        else:
            print(r.stderr)

        # A reinstall (an upgrade) keeps the administrator's settings.
        with open(D(conf), "a", encoding="utf-8") as f:
            f.write("pool_size = 12\n")
        install()
        check(open(D(conf), encoding="utf-8").read().endswith("pool_size = 12\n"),
              "a reinstall keeps an edited settings file")
        check(open(D(doc_example), encoding="utf-8").read() == example,
              "a reinstall updates the documentation's example")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main():
    mode = sys.argv[1]
    if mode == "install":
        rc = test_install(sys.argv[2:])
        if rc == SKIP:
            return SKIP
    elif mode == "config":
        test_config(sys.argv[2], sys.argv[3])
    elif mode == "journal":
        test_journal(sys.argv[2])
    else:
        print("unknown mode " + mode)
        return 2
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
