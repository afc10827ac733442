#!/usr/bin/env python3
"""check_protocol.py: proto/PROTOCOL.md against the code it describes.

PROTOCOL.md is the contract someone writes a client from, so a method, a
setting or an error code the server has and the document lacks is a bug.
This reads the server's sources as text and checks that:
  - every method in a method_def table of server/*.c has a section
    (### `name`) in PROTOCOL.md and a row in section 3's role matrix that
    gives exactly the roles of the table;
  - every key of server/config.c has a row in section 2's settings table;
  - every wire code of proto/bb_errors.c has a row in section 5's table.
Usage: check_protocol.py SOURCE_ROOT. Exit 0 when all agree, 1 otherwise
(each disagreement printed).
"""
import glob
import os
import re
import sys

# The role bits of server/session.h (and the one local alias the code
# uses), as the matrix spells them.
ROLES = {
    'BB_ROLES_USERS': {'township_staff', 'supervisor', 'admin'},
    'BB_ROLES_ALL': {'anon', 'township_staff', 'supervisor', 'admin'},
    'BB_ROLES_BUSINESS_WRITE': {'township_staff', 'supervisor'},
    'BB_ROLE_SUPERVISOR': {'supervisor'},
    'BB_ROLE_ADMIN': {'admin'},
    'BB_ROLE_STAFF': {'township_staff'},
    'BB_ROLES_ANON': {'anon'},
    'DIRECTORY_WRITE': {'supervisor', 'admin'},
}


def section(doc, start, end):
    a = doc.index(start)
    return doc[a:doc.index(end, a)]


def main(root):
    doc = open(os.path.join(root, 'proto/PROTOCOL.md'), encoding='utf-8').read()
    bad = []

    # Section 3's matrix: | `m1`, `m2` | anon | staff | supervisor | admin |
    matrix = {}
    for line in section(doc, '### Roles', '### Scope of township staff').split('\n'):
        if not line.startswith('| `'):
            continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        allowed = set()
        if cells[1] == 'yes':
            allowed.add('anon')
        for name, cell in zip(['township_staff', 'supervisor', 'admin'], cells[2:5]):
            if not cell.startswith('`forbidden`') and not cell.startswith('`unauth'):
                allowed.add(name)
        for m in re.findall(r'`([a-z_.]+)`', cells[0]):
            matrix[m] = allowed

    methods = 0
    for path in sorted(glob.glob(os.path.join(root, 'server/*.c'))):
        src = open(path, encoding='utf-8').read()
        for table in re.finditer(r'const method_def \w+\[\] = \{(.*?)\};', src, re.S):
            for e in re.finditer(r'\{"([^"]+)",\s*\w+,\s*([^}]+)\}', table.group(1)):
                name, expr = e.group(1), e.group(2).strip()
                want = set()
                for tok in re.split(r'\s*\|\s*', expr):
                    if tok not in ROLES:
                        bad.append('%s: unknown role expression %s in %s' % (name, tok, path))
                        continue
                    want |= ROLES[tok]
                methods += 1
                if '### `%s`' % name not in doc:
                    bad.append('method %s has no section in PROTOCOL.md' % name)
                if name not in matrix:
                    bad.append('method %s has no row in the role matrix' % name)
                elif matrix[name] != want:
                    bad.append('method %s: the matrix says %s, the code %s'
                               % (name, sorted(matrix[name]), sorted(want)))

    cfg = open(os.path.join(root, 'server/config.c'), encoding='utf-8').read()
    keys = re.findall(r'\bK[A-Z]+\("([a-z_]+)"', cfg)
    settings = section(doc, '## 2.', '## 3.').split('**Command line.**')[0]
    for k in keys:
        if '`%s`' % k not in settings:
            bad.append('setting %s has no row in section 2' % k)

    errs = open(os.path.join(root, 'proto/bb_errors.c'), encoding='utf-8').read()
    codes = [c for c in re.findall(r'\] = "([a-z_]+)"', errs) if c != 'ok']
    rows = set(re.findall(r'^\| `([a-z_]+)` \|', section(doc, '## 5.', '## 6.'), re.M))
    for c in codes:
        if c not in rows:
            bad.append('error code %s has no row in section 5' % c)

    for b in bad:
        print('check_protocol: ' + b)
    print('check_protocol: %d methods, %d settings, %d error codes; %d disagreements'
          % (methods, len(keys), len(codes), len(bad)))
    if methods == 0 or not keys or not codes:
        print('check_protocol: found nothing to check: the sources moved?')
        return 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
