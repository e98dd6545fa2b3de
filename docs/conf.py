# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of the mdev-kvm documentation (make docs).
#
# The API reference is pulled from the patched kernel tree with the kernel's
# own kernel-doc extension, so the tree is an input of the build: KSRC names
# it (scripts/docs.sh sets it from scripts/common.sh). It must be the tree
# with the series applied, not the pristine one.

import os
import re
import subprocess
import sys

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.directives.code import container_wrapper
from sphinx.errors import ConfigError
from sphinx.util.docutils import SphinxDirective

KSRC = os.environ.get('KSRC', '')
if not KSRC:
    raise ConfigError('KSRC is not set: it must name the patched kernel '
                      'tree (run "make docs", or bash scripts/docs.sh)')
KSRC = os.path.abspath(KSRC)
for need in ('scripts/kernel-doc', 'Documentation/sphinx/kerneldoc.py'):
    if not os.path.isfile(os.path.join(KSRC, need)):
        raise ConfigError('KSRC=%s has no %s: not a kernel tree (run '
                          '"make kernel")' % (KSRC, need))
with open(os.path.join(KSRC, 'include/linux/vfio.h'), encoding='utf-8') as f:
    if 'struct vfio_kvm_link {' not in f.read():
        raise ConfigError('KSRC=%s: not the kernel tree with the series '
                          'applied (run "make kernel")' % KSRC)

# The kernel's extensions: kernel-doc, kernel-include (a literal include
# from outside this directory) and automarkup (function() and struct foo
# become links when they are documented here).
# The tree is shared (see development.rst, "Caches"): leave no __pycache__
# in it.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(KSRC, 'Documentation', 'sphinx'))

project = 'mdev-kvm'
copyright = 'The mdev-kvm authors'
author = 'The mdev-kvm authors'

extensions = ['kerneldoc', 'kernel_include', 'automarkup']

kerneldoc_bin = os.path.join(KSRC, 'scripts', 'kernel-doc')
kerneldoc_srctree = KSRC

master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = ['_build']
primary_domain = 'c'
highlight_language = 'none'
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_static_path = []
html_show_sourcelink = False
html_copy_source = False

# -n: every reference must resolve, except to these kernel types, which
# appear in what kernel-doc emits (prototypes, &vfio_device.kvm) but have
# no kernel-doc to link to.
nitpick_ignore = [
    ('c:identifier', 'kvm'),
    ('c:type', 'kvm'),
    ('c:identifier', 'u64'),
    ('c:identifier', 'vfio_device'),
    ('c:type', 'vfio_device'),
]


# c-excerpt: quote one C definition, found by name, so that an excerpt
# cannot drift from the code: a definition that is not found, or found
# twice, is an error (and fails make docs). The excerpt runs from the
# definition's first line, at column 0, to the first line that is exactly
# "}" or "};", and starts at the comment right above it with :comment:.
# The file is relative to this directory, or starts with $KSRC; with
# :rev: it is read from that revision of the kernel tree's git history
# (:rev: base is the pristine Linux 6.12 the series applies to).
#
#   .. c-excerpt:: ../mdev-samples/mvgpu.c
#      :name: mvgpu_open_device
#      :comment:
class CExcerpt(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {
        'name': directives.unchanged_required,
        'comment': directives.flag,
        'rev': directives.unchanged_required,
    }

    def run(self):
        env = self.env
        arg = self.arguments[0]
        name = self.options['name']
        if arg.startswith('$KSRC/'):
            path = os.path.join(KSRC, arg[len('$KSRC/'):])
            shown = arg[len('$KSRC/'):]
        else:
            path = env.relfn2path(arg)[1]
            shown = os.path.normpath(arg).lstrip('./')
        rev = self.options.get('rev')
        if rev:
            if not arg.startswith('$KSRC/'):
                raise self.error('c-excerpt: :rev: needs a $KSRC/ path')
            try:
                text = subprocess.run(
                    ['git', '-C', KSRC, 'show', '%s:%s' % (rev, shown)],
                    check=True, capture_output=True,
                    encoding='utf-8').stdout
            except (OSError, subprocess.CalledProcessError) as e:
                raise self.error('c-excerpt: git show %s:%s in %s: %s'
                                 % (rev, shown, KSRC,
                                    getattr(e, 'stderr', '') or e))
            shown = '%s at %s' % (shown, rev)
        else:
            env.note_dependency(path)
            try:
                with open(path, encoding='utf-8') as f:
                    text = f.read()
            except OSError as e:
                raise self.error('c-excerpt: %s' % e)
        lines = text.split('\n')

        head = re.compile(r'^[a-z].*\b%s(\(| =|\[\] =)' % re.escape(name))
        starts = [i for i, l in enumerate(lines)
                  if head.match(l) and not l.endswith(';')]
        if len(starts) != 1:
            raise self.error('c-excerpt: %d definitions of %s in %s'
                             % (len(starts), name, arg))
        first = starts[0]
        last = next((i for i in range(first, len(lines))
                     if lines[i] in ('}', '};')), None)
        if last is None:
            raise self.error('c-excerpt: no end of %s in %s' % (name, arg))
        if 'comment' in self.options:
            if first == 0 or not lines[first - 1].endswith('*/'):
                raise self.error('c-excerpt: no comment above %s in %s'
                                 % (name, arg))
            while first > 0 and not lines[first - 1].startswith('/*'):
                first -= 1
            first -= 1

        text = '\n'.join(l.expandtabs(8) for l in lines[first:last + 1])
        block = nodes.literal_block(text, text, source=path)
        block['language'] = 'c'
        self.set_source_info(block)
        caption = '%s, lines %d-%d' % (shown, first + 1, last + 1)
        block = container_wrapper(self, block, caption)
        self.add_name(block)
        return [block]


# The selftests, read from selftests/ when the documentation is built, so
# that the pages cannot name a test or a program the suite does not have.
SELFTESTS = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), '..', 'selftests'))


def selftest_sources():
    """The suite's C files: {file name: text}."""
    out = {}
    for sub in ('', 'selfcheck'):
        d = os.path.join(SELFTESTS, sub)
        for f in sorted(os.listdir(d)):
            if f.endswith('.c') and not f.endswith('.mod.c'):
                with open(os.path.join(d, f), encoding='utf-8') as fh:
                    out[f] = fh.read()
    return out


# :selftest:`vm_closed_first_outlives_device` renders the test's name,
# and is an error if no source in selftests/ has such a TEST, TEST_F or
# TEST_F_TIMEOUT.
def selftest_role(name, rawtext, text, lineno, inliner, options=None,
                  content=None):
    test = text.strip()
    pat = r'^TEST(_F)?(_TIMEOUT)?\((\w+, *)?%s[,)]' % re.escape(test)
    if not any(re.search(pat, src, re.M)
               for src in selftest_sources().values()):
        msg = inliner.reporter.error('selftest: no test %s in selftests/'
                                     % test, line=lineno)
        prb = inliner.problematic(rawtext, rawtext, msg)
        return [prb], [msg]
    return [nodes.literal(rawtext, test)], []


# .. selftest-programs:: TEST_GEN_PROGS
# .. selftest-programs:: fail_test
#
# For each program the selftests' Makefile lists in that variable (an
# argument in capitals), in its order, or for each program named (any
# other argument: programs not in the Makefile, such as selfcheck/'s), the
# program's name and the comment at the top of its source.
class SelftestPrograms(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self):
        arg = self.arguments[0]
        if re.fullmatch(r'[A-Z_]+', arg):
            mk = os.path.join(SELFTESTS, 'Makefile')
            self.env.note_dependency(mk)
            with open(mk, encoding='utf-8') as f:
                text = f.read().replace('\\\n', ' ')
            m = re.search(r'^%s\s*:?=(.*)$' % re.escape(arg), text, re.M)
            if not m or not m.group(1).split():
                raise self.error('selftest-programs: no %s in %s'
                                 % (arg, mk))
            progs = m.group(1).split()
        else:
            progs = arg.split()

        dl = nodes.definition_list()
        for prog in progs:
            for sub in ('', 'selfcheck'):
                path = os.path.join(SELFTESTS, sub, prog + '.c')
                if os.path.isfile(path):
                    break
            else:
                raise self.error('selftest-programs: %s has no source in '
                                 'selftests/' % prog)
            self.env.note_dependency(path)
            with open(path, encoding='utf-8') as f:
                lines = f.read().split('\n')
            try:
                first = lines.index('/*') + 1
                last = lines.index(' */', first)
            except ValueError:
                raise self.error('selftest-programs: %s has no comment at '
                                 'its top' % path)
            doc = '\n'.join(re.sub(r'^ \*( |$)', '', l)
                            for l in lines[first:last])
            item = nodes.definition_list_item()
            item += nodes.term('', '', nodes.literal(prog, prog))
            body = nodes.definition()
            body += nodes.literal_block(doc, doc)
            item += body
            dl += item
        return [dl]


def setup(app):
    app.add_directive('c-excerpt', CExcerpt)
    app.add_directive('selftest-programs', SelftestPrograms)
    app.add_role('selftest', selftest_role)
