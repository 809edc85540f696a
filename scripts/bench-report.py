#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Turn the CSV files 'make bench' collected in OUT into a table
# (OUT/bench.txt, also printed) and a plot (OUT/bench.png, with gnuplot).
# Usage: bench-report.py OUT
import csv
import os
import statistics
import subprocess
import sys

out = sys.argv[1]


def rows(name):
    path = os.path.join(out, name + '.csv')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def spread(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None, None, None
    return statistics.median(vals), vals[0], vals[-1]


lines = []


def say(s=''):
    lines.append(s)


def group(rs, *keys):
    g = {}
    for r in rs:
        g.setdefault(tuple(r[k] for k in keys), []).append(r)
    return g


PHASE = {'tpm': 'swtpm', 'big': 'no TPM', 'allpcrs': 'swtpm, all 24 PCRs',
         'off': 'option off, swtpm', 'read-on': 'option on, no TPM',
         'read-off': 'option off, no TPM',
         'hotpath-on': 'option on, -icount', 'hotpath-off': 'option off, -icount'}

# --- snapshot open ----------------------------------------------------------
marker = rows('marker')
say('Snapshot open: ima_extend_list_mutex hold while the marker is built')
say('(the 1st open hashes every record since the previous marker, outside the mutex)')
say('%-20s %9s %24s %10s %10s %8s' % ('kernel', 'records', 'hold us median (min-max)',
                                       'open ms 1st', 'median', 'TPM cmds'))
holds = {}
for (phase, size), rs in sorted(group(marker, 'phase', 'size').items(),
                                key=lambda x: (x[0][0], int(x[0][1]))):
    h = spread([num(r['hold_ns']) / 1e3 for r in rs])
    t = spread([num(r['total_ns']) / 1e6 for r in rs])
    c = spread([num(r['tpm_commands']) for r in rs])
    holds.setdefault(phase, []).append((int(size), h[0]))
    say('%-20s %9s %8.0f (%6.0f-%6.0f) %10.2f %10.2f %8.0f' %
        (PHASE.get(phase, phase), size, h[0], h[1], h[2],
         num(rs[0]['total_ns']) / 1e6, t[0], c[0]))
for phase, hs in holds.items():
    if len(hs) > 1:
        say('  %s: hold at %d records / hold at %d records = %.2f (goal: flat, ~1)' %
            (PHASE.get(phase, phase), hs[-1][0], hs[0][0], hs[-1][1] / hs[0][1]))
say()

# --- finalize ---------------------------------------------------------------
trim = rows('trim')
say('Finalize: trimming the records before the marker')
say('%-10s %9s %7s %14s %12s %14s' % ('kernel', 'trimmed', 'holds', 'max hold us',
                                      'total ms', 'total us/rec'))
for r in sorted(trim, key=lambda r: (r['phase'], int(r['size']))):
    n = num(r['records']) or 0
    tot = num(r['total_ns']) / 1e6
    say('%-10s %9d %7s %14.0f %12.1f %14.2f' %
        (PHASE.get(r['phase'], r['phase']), n, r['mutex_holds'],
         num(r['hold_max_ns']) / 1e3, tot, tot * 1e3 / n if n else 0))
say()

# --- memory -----------------------------------------------------------------
mem = rows('mem')
say('Memory: unreclaimable slab (/proc/meminfo SUnreclaim) around each trim')
say('%-10s %9s %12s %12s %10s %16s %14s' % ('kernel', 'records', 'list kB',
                                            'freed kB', 'returned', 'counter kB',
                                            'slab B/rec'))
for r in sorted(mem, key=lambda r: (r['phase'], int(r['size']))):
    before, at, after = (num(r[k]) for k in
                         ('slab_before_kb', 'slab_at_size_kb', 'slab_after_trim_kb'))
    grown, freed = at - before, at - after
    size = int(r['size'])
    say('%-10s %9d %12.0f %12.0f %9.1f%% %16.0f %14.0f' %
        (PHASE.get(r['phase'], r['phase']), size, grown, freed,
         100.0 * freed / grown if grown > 0 else float('nan'),
         num(r['counter_bytes_at_size']) / 1024, grown * 1024 / size))
say()

# --- hot path ---------------------------------------------------------------
rate = rows('rate')
say('Hot path: records measured per second (batches of files read)')
rates = {}
for (phase, cond), rs in sorted(group(rate, 'phase', 'condition').items()):
    m = spread([num(r['records_per_s']) for r in rs])
    rates[(phase, cond)] = m[0]
    say('%-20s %-14s %8.0f/s median (%.0f-%.0f, %d batches)' %
        ('option on, swtpm' if phase == 'tpm' else PHASE.get(phase, phase),
         cond, m[0], m[1], m[2], len(rs)))
if ('tpm', 'idle') in rates and ('off', 'idle') in rates:
    say('  with swtpm: option on / option off = %.3f (goal: within 2%%)' %
        (rates[('tpm', 'idle')] / rates[('off', 'idle')]))
if ('read-on', 'idle') in rates and ('read-off', 'idle') in rates:
    say('  without a TPM: option on / option off = %.3f (goal: within 2%%)' %
        (rates[('read-on', 'idle')] / rates[('read-off', 'idle')]))
if ('hotpath-on', 'idle') in rates and ('hotpath-off', 'idle') in rates:
    say('  without a TPM, -icount: option on / option off = %.3f (goal: within 2%%)' %
        (rates[('hotpath-on', 'idle')] / rates[('hotpath-off', 'idle')]))
if ('hotpath-on', 'snapshot_loop') in rates and ('hotpath-on', 'idle') in rates:
    say('  without a TPM, -icount: snapshot every 100 ms / without = %.3f' %
        (rates[('hotpath-on', 'snapshot_loop')] / rates[('hotpath-on', 'idle')]))
if ('tpm', 'snapshot_loop') in rates and ('tpm', 'idle') in rates:
    say('  with a snapshot every 100 ms / without = %.3f' %
        (rates[('tpm', 'snapshot_loop')] / rates[('tpm', 'idle')]))
say()

# --- readers ----------------------------------------------------------------
rd = rows('read')
say('Readers: reading ascii_runtime_measurements to the end (64 KiB reads)')
reads = {}
for phase, rs in sorted(group(rd, 'phase').items()):
    m = spread([num(r['seconds']) for r in rs])
    reads[phase[0]] = m[0]
    say('%-20s %9s records %10s bytes %8.3f s median (%.3f-%.3f)' %
        (PHASE.get(phase[0], phase[0]), rs[0]['records'], rs[0]['bytes'],
         m[0], m[1], m[2]))
if 'read-on' in reads and 'read-off' in reads:
    say('  option on / option off = %.3f' % (reads['read-on'] / reads['read-off']))
say()

# --- verifier ---------------------------------------------------------------
ver = rows('verify')
say('Verifier (host): ima_verify, full mode versus fast mode from the previous state')
say('%7s %9s %-5s %10s %18s' % ('pieces', 'records', 'mode', 'median s', 'min-max s'))
for r in ver:
    if not r['median_s']:
        say('%7s %9s %-5s %10s %18s' % (r['pieces'], r['records'], r['mode'],
                                        'n/a', '(no earlier marker)'))
        continue
    say('%7s %9s %-5s %10.4f %8.4f-%.4f' % (r['pieces'], r['records'], r['mode'],
                                            num(r['median_s']), num(r['min_s']),
                                            num(r['max_s'])))

text = '\n'.join(lines) + '\n'
with open(os.path.join(out, 'bench.txt'), 'w') as f:
    f.write(text)
sys.stdout.write(text)

# --- plot -------------------------------------------------------------------
def dat(name, rs):
    path = os.path.join(out, name + '.dat')
    with open(path, 'w') as f:
        for r in rs:
            f.write(' '.join(str(x) for x in r) + '\n')
    return path


series = {}
for (phase, size), rs in group(marker, 'phase', 'size').items():
    if phase in ('tpm', 'big'):
        series.setdefault(phase, []).append(
            (int(size), spread([num(r['hold_ns']) / 1e3 for r in rs])[0]))
mk = {p: dat('plot-marker-' + p, sorted(v)) for p, v in series.items()}
tr = {}
for phase in ('tpm', 'big'):
    rs = sorted((int(r['records']), num(r['hold_max_ns']) / 1e3,
                 num(r['total_ns']) / 1e6) for r in trim if r['phase'] == phase and
                int(r['records']) > 0)
    if rs:
        tr[phase] = dat('plot-trim-' + phase, rs)
mm = dat('plot-mem', sorted((int(r['size']),
                            num(r['slab_at_size_kb']) - num(r['slab_before_kb']),
                            num(r['slab_after_trim_kb']) - num(r['slab_before_kb']))
                           for r in mem if r['phase'] == 'big') or
         sorted((int(r['size']),
                 num(r['slab_at_size_kb']) - num(r['slab_before_kb']),
                 num(r['slab_after_trim_kb']) - num(r['slab_before_kb']))
                for r in mem))
vf = {m: dat('plot-verify-' + m, [(int(r['pieces']), num(r['median_s']))
                                  for r in ver if r['mode'] == m and r['median_s']])
      for m in ('full', 'fast')}

gp = ['set terminal pngcairo size 1200,900 font "sans,10"',
      'set output "%s"' % os.path.join(out, 'bench.png'),
      'set multiplot layout 2,2 title "IMA log snapshots (QEMU TCG, swtpm)"',
      'set logscale x', 'set grid', 'set key top left']
plots = []
for p, path in mk.items():
    plots.append('"%s" using 1:2 with linespoints title "%s"' % (path, PHASE[p]))
gp += ['set title "Snapshot open: mutex hold (median)"',
       'set xlabel "records in the list"', 'set ylabel "microseconds"',
       'set logscale y', 'set yrange [10:100000]',
       'plot ' + (', '.join(plots) or '1 notitle'), 'unset logscale y']
plots = []
for p, path in tr.items():
    plots.append('"%s" using 1:3 with linespoints title "total ms, %s"' % (path, PHASE[p]))
    plots.append('"%s" using 1:($2/1000) with linespoints title "max mutex hold ms, %s"' %
                 (path, PHASE[p]))
gp += ['set title "Finalize: time against records trimmed"', 'set logscale y',
       'set xlabel "records trimmed"', 'set ylabel "milliseconds"', 'set yrange [*:*]',
       'plot ' + (', '.join(plots) or '1 notitle'), 'unset logscale y']
gp += ['set title "Memory: unreclaimable slab above the baseline"',
       'set xlabel "records"', 'set ylabel "MB"', 'set yrange [*:*]',
       ('plot "%s" using 1:($2/1024) with linespoints title "with the records", '
        '"%s" using 1:($3/1024) with linespoints title "after the trim"' % (mm, mm))
       if os.path.getsize(mm) else 'plot 1 notitle']
vplots = ['"%s" using 1:2 with linespoints title "%s"' % (vf[m], m)
          for m in ('full', 'fast') if os.path.getsize(vf[m])]
gp += ['set title "Verifier: full versus fast mode"', 'set xlabel "pieces (1000 records each)"',
       'set ylabel "seconds"', 'set logscale y',
       'plot ' + (', '.join(vplots) or '1 notitle'),
       'unset multiplot']
script = os.path.join(out, 'bench.gp')
with open(script, 'w') as f:
    f.write('\n'.join(gp) + '\n')
try:
    subprocess.run(['gnuplot', script], check=True)
    print('plot: %s' % os.path.join(out, 'bench.png'))
except (OSError, subprocess.CalledProcessError) as e:
    print('no plot: %s' % e, file=sys.stderr)
    sys.exit(1)
