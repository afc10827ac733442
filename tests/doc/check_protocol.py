#!/usr/bin/env python3
"""check_protocol.py: proto/PROTOCOL.md against the spec the server serves.

PROTOCOL.md is the contract someone writes a client from, so it must say
what the server does. The methods are declared once, in the spec
(proto/bb_spec.h, proto/spec/); `baobaod --api-info` prints it as JSON.
This checks that:
  - every method of the spec has a section (### `name`) whose argument
    table lists exactly the spec's arguments, in its order, each with the
    spec's type (`nil-able` when nil is accepted) and `required` exactly
    when the spec requires it;
  - every method of the spec has a row in section 3's role matrix with
    exactly the spec's roles, and every method the matrix or a section
    names is in the spec;
  - the methods section 2 lists under "Read replicas" are exactly those
    the spec declares `replica` (BB_M_REPLICA), and those it lists as
    writes without an idempotency key exactly the spec's BB_M_WRITES ones;
  - every key of server/engine/config.c has a row in section 2's settings
    table, and every error code of the spec (proto/bb_errors.h) a row in
    section 5.
Usage: check_protocol.py SOURCE_ROOT BAOBAOD. Exit 0 when all agree, 1
otherwise (each disagreement printed).
"""
import json
import os
import re
import subprocess
import sys

DOC_TYPES = {'int': 'int', 'str': 'str', 'text': 'str', 'date': 'date', 'bool': 'bool',
             'array of str': 'array of str'}


def section(doc, start, end):
    a = doc.index(start)
    return doc[a:doc.index(end, a)]


def role_matrix(doc):
    """Section 3's matrix: | `m1`, `m2` | anon | staff | supervisor | admin |."""
    matrix = {}
    for line in section(doc, '### Roles', '### Scope of township staff').split('\n'):
        if not line.startswith('| `'):
            continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        allowed = set()
        if cells[1] == 'yes':
            allowed.add('anonymous')
        for name, cell in zip(['township_staff', 'supervisor', 'admin'], cells[2:5]):
            if not cell.startswith('`forbidden`') and not cell.startswith('`unauth'):
                allowed.add(name)
        for m in re.findall(r'`([a-z_]+\.[a-z_]+)`', cells[0]):
            matrix[m] = allowed
    return matrix


def method_sections(doc):
    """name -> the text of its ### section (to the next heading)."""
    out = {}
    parts = re.split(r'^(### .*)$', doc, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        m = re.match(r'### `([a-z_]+\.[a-z_]+)`$', parts[i].strip())
        if m:
            out[m.group(1)] = parts[i + 1].split('\n## ')[0]
    return out


def arg_rows(text):
    """The rows of the first `| argument | type | ... |` table of a section."""
    rows = []
    inside = False
    for line in text.split('\n'):
        if line.startswith('| argument |'):
            inside = True
            continue
        if inside:
            if not line.startswith('|'):
                break
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) < 3 or cells[0].startswith('---'):
                continue
            name = re.match(r'`([a-z0-9_]+)`', cells[0])
            if name:
                rows.append((name.group(1), cells[1], cells[2]))
    return rows


def check_method(m, text, bad):
    rows = arg_rows(text)
    want = [a['name'] for a in m['args']]
    have = [r[0] for r in rows]
    if have != want:
        bad.append('%s: the argument table lists %s, the spec %s' % (m['name'], have, want))
        return
    for a, (name, typ, desc) in zip(m['args'], rows):
        if a['type'] == 'any':
            continue
        t = DOC_TYPES[a['type']]
        expect = {'nil-able ' + t} if a['nil'] else {t}
        if typ not in expect:
            bad.append('%s: argument %s is "%s" in the table, %s in the spec'
                       % (m['name'], name, typ, ' or '.join(sorted(expect))))
        doc_required = desc.startswith('required')
        if doc_required != a['required']:
            bad.append('%s: argument %s is %s in the table, %s in the spec'
                       % (m['name'], name, 'required' if doc_required else 'optional',
                          'required' if a['required'] else 'optional'))


def main(root, baobaod):
    doc = open(os.path.join(root, 'proto/PROTOCOL.md'), encoding='utf-8').read()
    api = json.loads(subprocess.run([baobaod, '--api-info'], check=True,
                                    capture_output=True).stdout.decode('utf-8'))
    bad = []
    matrix = role_matrix(doc)
    sections = method_sections(doc)
    spec = {m['name']: m for m in api['methods']}

    for name, m in spec.items():
        if name not in sections:
            bad.append('method %s has no section in PROTOCOL.md' % name)
        else:
            check_method(m, sections[name], bad)
        if name not in matrix:
            bad.append('method %s has no row in the role matrix' % name)
        elif matrix[name] != set(m['roles']):
            bad.append('method %s: the matrix says %s, the spec %s'
                       % (name, sorted(matrix[name]), sorted(m['roles'])))
    for name in sorted(set(matrix) | set(sections)):
        if name not in spec:
            bad.append('PROTOCOL.md describes %s, which the spec does not have' % name)

    # The methods section 2's "Read replicas" lists are the spec's `replica` ones.
    listed = set(re.findall(r'`([a-z_]+\.[a-z_]+)`',
                            section(section(doc, '#### Read replicas', '**The staleness rule.**'),
                                    'write nothing:', 'Everything else')))
    declared = {n for n, m in spec.items() if m.get('replica')}
    for name in sorted(declared - listed):
        bad.append('method %s is declared replica but not listed under "Read replicas"' % name)
    for name in sorted(listed - declared):
        bad.append('"Read replicas" lists %s, which the spec does not declare replica' % name)

    # The methods it lists as writes without an idempotency key are the
    # spec's BB_M_WRITES ones (`writes` and not `write` in --api-info).
    listed = set(re.findall(r'`([a-z_]+\.[a-z_]+)`',
                            section(section(doc, '#### Read replicas', '**Exports**'),
                                    'without an idempotency key:', '.\n')))
    declared = {n for n, m in spec.items() if m.get('writes') and not m.get('write')}
    for name in sorted(declared - listed):
        bad.append('method %s writes without a key but is not listed under "Read replicas"' % name)
    for name in sorted(listed - declared):
        bad.append('"Read replicas" lists %s as a write, which the spec does not declare' % name)

    cfg = open(os.path.join(root, 'server/engine/config.c'), encoding='utf-8').read()
    keys = re.findall(r'\bK[A-Z]+\("([a-z_]+)"', cfg)
    settings = section(doc, '## 2.', '## 3.').split('**Command line.**')[0]
    for k in keys:
        if '`%s`' % k not in settings:
            bad.append('setting %s has no row in section 2' % k)

    codes = api['errors']
    rows = set(re.findall(r'^\| `([a-z0-9_]+)` \|', section(doc, '## 5.', '## 6.'), re.M))
    for c in codes:
        if c not in rows:
            bad.append('error code %s has no row in section 5' % c)

    for b in bad:
        print('check_protocol: ' + b)
    print('check_protocol: %d methods, %d settings, %d error codes; %d disagreements'
          % (len(spec), len(keys), len(codes), len(bad)))
    if not spec or not keys or not codes:
        print('check_protocol: found nothing to check: the sources moved?')
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
