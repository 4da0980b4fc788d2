// results.md and results.svg from the raw results of a run (bench/.work/results*.json).
// Re-render without re-running:  node bench/lib/report.mjs bench/.work/results.json [outDir]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GiB, MiB } from './workloads.mjs';

export const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

/**
 * One row per (workload, peer): medians over rounds of each round's median op time, of CPU,
 * wire bytes and server CPU per timed entry; peaks (RSS, event-loop delay) as the worst round.
 */
export function summarize(results) {
  const peers = Object.fromEntries(results.meta.peers.map((p) => [p.id, p]));
  return results.workloads.map((w) => {
    const rows = Object.entries(w.cells).map(([id, rounds]) => {
      const ok = rounds.filter((r) => r.ok);
      const error = rounds.find((r) => !r.ok)?.error;
      const row = { id, peer: peers[id], rounds: rounds.length, failed: rounds.length - ok.length, error, pending: /\bpending: /.test(error ?? '') };
      if (ok.length === 0) return row;
      const per = (f) => median(ok.map((r) => f(r) / r.entries));
      row.time = median(ok.map((r) => median(r.times)));
      row.cpu = per((r) => r.cpuSeconds);
      row.serverCpu = per((r) => r.serverCpuSeconds);
      row.wire = per((r) => r.wireBytes);
      row.rss = Math.max(...ok.map((r) => r.maxRssBytes));
      // The worst round's delay, with the longest GC pause of that same round.
      const el = ok.filter((r) => r.eventLoopMaxMs !== null && r.eventLoopMaxMs !== undefined);
      const worst = el.length ? el.reduce((a, b) => (b.eventLoopMaxMs > a.eventLoopMaxMs ? b : a)) : undefined;
      row.eventLoop = worst?.eventLoopMaxMs;
      row.gcPause = worst?.gcPauseMaxMs;
      const own = ok.map((r) => r.eventLoopOwnMaxMs).filter((ms) => ms !== undefined && ms !== null);
      row.eventLoopOwn = own.length ? Math.max(...own) : undefined;
      return row;
    });
    const timed = rows.filter((r) => r.time !== undefined);
    const best = Math.min(...timed.filter((r) => !r.peer.ceiling).map((r) => r.time));
    // The server ceiling is the raw client of the server the peers used in this workload.
    const ceiling = (kind) => timed.find((r) => r.peer.ceiling === kind && (kind === 'http' || r.peer.server === w.server))?.time;
    for (const r of timed) {
      r.vsBest = r.time / best;
      r.ofHttp = ceiling('http') ? ceiling('http') / r.time : undefined;
      r.ofServer = ceiling('server') ? ceiling('server') / r.time : undefined;
    }
    return { ...w, rows, best };
  });
}

/** ` (GC n ms)` when the round's longest collector pause explains at least half of its worst delay. */
function gcNote(gcMs, delayMs) {
  return gcMs !== undefined && gcMs >= delayMs / 2 ? ` (GC ${fmt(gcMs)} ms)` : '';
}

/**
 * A cell's worst delay, with the collector's pause when it explains half of it, and the worst
 * stall of the peer's own work once the main thread's wait for a CPU is taken out.
 */
function delayText(r) {
  const notes = [gcNote(r.gcPause, r.eventLoop).replace(/^ \((.*)\)$/, '$1'), r.eventLoopOwn === undefined ? '' : `own ${fmt(r.eventLoopOwn)} ms`].filter(Boolean);
  return `${fmt(r.eventLoop)} ms${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** The value users compare: latency in ms, throughput in MiB/s, ops/s, or seconds. */
function value(w, time) {
  if (w.metric === 'latency') return { n: time * 1000, unit: 'ms', text: `${fmt(time * 1000)} ms` };
  if (w.metric === 'throughput') return { n: w.bytes / MiB / time, unit: 'MiB/s', text: `${fmt(w.bytes / MiB / time)} MiB/s` };
  if (w.metric === 'ops') return { n: w.ops / time, unit: 'ops/s', text: `${fmt(w.ops / time)} ops/s` };
  return { n: time, unit: 's', text: `${fmt(time)} s` };
}
const higherIsBetter = (w) => w.metric === 'throughput' || w.metric === 'ops';

function fmt(x) {
  if (x === undefined || Number.isNaN(x)) return '—';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}
/** The line of a cell's error output that says what happened: a V8 fatal error, else the
 *  last line naming an error (Python's traceback ends with it), else the first line. */
function reason(error) {
  const lines = String(error).split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => l.startsWith('FATAL ERROR')) ?? lines.findLast((l) => /^[\w.]*(Error|Exception)\b[^:]*:/.test(l)) ?? lines[0] ?? '';
  return line.slice(0, 200).replace(/\|/g, '\\|');
}
const bytes = (b) => (b === undefined ? '—' : b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : b >= MiB ? `${(b / MiB).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const pct = (x) => (x === undefined ? '—' : `${(x * 100).toFixed(0)} %`);

const OURS_FAST = 's3-arrow'; // the native data path: the speed targets are its
const na = 'not measured';
const x = (r) => `${fmt(r)}×`;

/**
 * The targets of issue 14 (and issue 17's Parquet and dataset ones), checked against the
 * summary: [what, measured, met (undefined: not judged)]. A row that ran on several servers
 * (`both`) is judged on each. Ratios are of median op times (for ops/s rows, of their inverse).
 */
function targets(sum) {
  const out = [];
  const rowIn = (w, peer) => w.rows.find((r) => r.id === peer && r.time !== undefined);
  const row = (id, peer) => sum.find((w) => w.id === id) && rowIn(sum.find((w) => w.id === id), peer);
  const at = (w) => `${w.id} on ${w.server}`;
  const missing = (w, ...peers) => `${na} (${peers.filter((p) => !rowIn(w, p)).join(', ')} ${peers.filter((p) => !rowIn(w, p)).some((p) => w.rows.some((r) => r.id === p)) ? 'failed' : 'absent'})`;
  /** ours.time ≤ k × ref.time (k < 1 : ours faster), or, with `atLeast`, ref.time / ours.time ≥ k. */
  const judge = (what, w, ours, ref, k, atLeast) => {
    const a = rowIn(w, ours);
    const b = rowIn(w, ref);
    if (!a || !b) return out.push([what, missing(w, ours, ref), undefined]);
    const v = value(w, a.time).text;
    const u = value(w, b.time).text;
    if (atLeast) out.push([what, `${x(b.time / a.time)} (${v} vs ${u})`, b.time / a.time >= k]);
    else out.push([what, `${x(a.time / b.time)} (${v} vs ${u})`, a.time <= k * b.time]);
  };
  const large = sum.filter((w) => (w.group === 'GET' || w.group === 'PUT') && w.bytes > 8 * MiB);

  // 1. Against the server ceiling: the raw client to the same server through presigned URLs.
  for (const w of large) {
    const a = rowIn(w, OURS_FAST);
    const c = w.rows.find((r) => r.peer.ceiling === 'server' && r.peer.server === w.server && r.time !== undefined);
    const what = `${at(w)}: ${OURS_FAST} ≥ 85 % of the server ceiling`;
    if (a && c) out.push([what, `${pct(a.ofServer)} (${value(w, a.time).text} vs ${value(w, c.time).text})`, a.ofServer >= 0.85]);
    else out.push([what, a ? `${na} (no raw client on ${w.server})` : missing(w, OURS_FAST), undefined]);
  }
  // 2. Against the raw SDK doing the same request, on each server the row ran on.
  for (const w of large) judge(`${at(w)}: ${OURS_FAST} ≥ ${w.group === 'GET' ? 2 : 1.3}× the raw SDK`, w, OURS_FAST, 'aws-sdk', w.group === 'GET' ? 2 : 1.3, true);
  const small = sum.filter((w) => w.id === 'put-4KiB' || w.id === 'put-4KiB-create');
  for (const w of small) judge(`${at(w)}: ${OURS_FAST} write ≤ 0.6× a raw SDK PUT${w.id.endsWith('create') ? ' (both create-only)' : ''}`, w, OURS_FAST, 'aws-sdk', 0.6);
  for (const w of [...small, ...large.filter((w) => w.group === 'PUT')]) judge(`${at(w)}: s3 write ≤ 1.15× the raw SDK`, w, 's3', 'aws-sdk', 1.15);
  for (const w of sum.filter((w) => w.id === 'head' || w.id === 'exists')) {
    for (const ours of [OURS_FAST, 's3']) judge(`${at(w)}: ${ours} ${w.id === 'head' ? 'getFileInfo' : 'exists'} ≤ 1.15× a raw SDK HeadObject`, w, ours, 'aws-sdk', 1.15);
  }
  for (const w of sum.filter((w) => Number(/^put-(\d+)x4KiB$/.exec(w.id)?.[1]) >= 1024)) judge(`${at(w)}: ${OURS_FAST} ≥ 2× the raw SDK's ops/s`, w, OURS_FAST, 'aws-sdk', 2, true);
  // 3. Against the peers.
  for (const w of large.filter((w) => w.group === 'PUT')) {
    for (const peer of ['py-s3-pyarrow', 'opendal']) judge(`${at(w)}: ${OURS_FAST} at least as fast as ${peer} (≥ 1×)`, w, OURS_FAST, peer, 1, true);
  }
  for (const w of sum.filter((w) => w.id === 'put-64x4KiB')) judge(`${at(w)}: ${OURS_FAST} ≥ 0.8× opendal's ops/s`, w, OURS_FAST, 'opendal', 0.8, true);
  // 4. The event loop, per Node peer of ours: the worst cell of every workload it ran.
  const ours = [...new Set(sum.flatMap((w) => w.rows.filter((r) => r.peer.ours && r.eventLoop !== undefined).map((r) => r.id)))];
  for (const id of ours) {
    const cells = sum.flatMap((w) => w.rows.filter((r) => r.id === id && r.eventLoop !== undefined).map((r) => ({ w, ms: r.eventLoop, gc: r.gcPause, own: r.eventLoopOwn })));
    const worst = cells.reduce((a, b) => (b.ms > a.ms ? b : a));
    const over = cells.filter((c) => c.ms > 20).map((c) => `${c.w.id}@${c.w.server} ${fmt(c.ms)}${gcNote(c.gc, c.ms)}`);
    out.push([
      `event loop: ${id} max delay ≤ 20 ms in every workload (${cells.length} cells)`,
      `${fmt(worst.ms)} ms (${at(worst.w)})${gcNote(worst.gc, worst.ms)}${over.length ? `; over 20 ms: ${over.join(', ')}` : ''}`,
      worst.ms <= 20,
    ]);
    // The same cells less the main thread's wait for a CPU (the server and other threads ran):
    // what the peer's own work (JS, GC, native calls on the main thread) stalled the loop.
    const owned = cells.filter((c) => c.own !== undefined);
    if (owned.length) {
      const worstOwn = owned.reduce((a, b) => (b.own > a.own ? b : a));
      const overOwn = owned.filter((c) => c.own > 20).map((c) => `${c.w.id}@${c.w.server} ${fmt(c.own)}`);
      out.push([
        `event loop: ${id} own stall (delay less CPU wait) ≤ 20 ms in every workload (${owned.length} cells)`,
        `${fmt(worstOwn.own)} ms (${at(worstOwn.w)})${overOwn.length ? `; over 20 ms: ${overOwn.join(', ')}` : ''}`,
        worstOwn.own <= 20,
      ]);
    }
  }
  const pq = sum.find((w) => w.id === 'pq-2of20');
  if (pq) {
    const ours = row('pq-2of20', 'pq-ours');
    const raw = row('pq-2of20', 'pq-raw');
    const polars = row('pq-2of20', 'polars');
    out.push(['Parquet 2 of 20 columns: ours ≤ 1.15× a raw GET of just the selected column chunks (issue 17)', ours && raw ? `${fmt(ours.time / raw.time)}× (${fmt(ours.time)} vs ${fmt(raw.time)} s)` : na, ours && raw ? ours.time <= 1.15 * raw.time : undefined]);
    out.push(['Parquet 2 of 20 columns: ours ≤ 0.8× nodejs-polars (issue 17)', ours && polars ? `${fmt(ours.time / polars.time)}× (${fmt(ours.time)} vs ${fmt(polars.time)} s)` : na, ours && polars ? ours.time <= 0.8 * polars.time : undefined]);
    const wire = ours && ours.wire / pq.selectedBytes;
    out.push(['Parquet 2 of 20 columns: bytes on the wire ≤ 1.15× the selected column chunks', ours ? `${fmt(wire)}×` : na, ours ? wire <= 1.15 : undefined]);
  }
  const ds = sum.find((w) => w.id === 'ds-2of10');
  const dsOurs = row('ds-2of10', 'pq-ours');
  if (ds && dsOurs) {
    const wire = dsOurs.wire / ds.selectedBytes;
    out.push(['Dataset, filter on 2 of 10 partitions: bytes on the wire ≤ 1.1× their selected column chunks (issue 17)', `${fmt(wire)}×`, wire <= 1.1]);
    for (const peer of ['duckdb', 'polars']) {
      const r = row('ds-2of10', peer);
      out.push([`Dataset, filter on 2 of 10 partitions: time vs ${peer}`, r ? `${fmt(dsOurs.time / r.time)}× (${fmt(dsOurs.time)} vs ${fmt(r.time)} s)` : 'not measured', undefined]);
    }
  }
  return out;
}

function markdown(results, sum) {
  const m = results.meta;
  const L = [];
  L.push('# Benchmark results', '');
  L.push(
    `${m.quick ? '**Quick run** (small sizes, one round: a smoke test, not a result). ' : ''}` +
      `${m.date.slice(0, 16).replace('T', ' ')} UTC, commit \`${m.git}\`, ${m.rounds} round(s), ${Math.round(m.durationSeconds / 60)} min. ` +
      `Generated by \`bash bench/run.sh${m.quick ? ' --quick' : ''}\`.`,
    '',
  );
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  L.push(
    `Machine: ${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.memoryGiB} GiB, Linux ${m.machine.kernel}; ` +
      `load average (1/5/15 min) ${load(m.machine.loadBefore)} before, ${load(m.machine.loadAfter)} after` +
      `${m.machine.loadBefore[0] > 0.5 ? ' — **taken under load from other work on the machine: treat small differences as noise**' : ''}.`,
    '',
  );
  L.push(`Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  for (const note of m.notes ?? []) L.push(`> ${note}`, '');
  L.push('## How to read this', '');
  L.push(
    '- Every cell is one peer running one workload in a process of its own, all on 127.0.0.1 in a network namespace of the bench alone; rounds rotate the order of the peers.',
    '- *median*: the median over rounds of each round\'s median op time, shown as latency, throughput or ops/s. *× best*: time over the best non-ceiling peer (1.00 = best).',
    '- *% HTTP ceiling*: the raw keep-alive client against nginx serving/storing the same bytes on tmpfs, divided by this peer\'s time. *% server ceiling*: the same raw client against the S3 server (presigned URLs).',
    '- *wire*: bytes sent over loopback per op (both directions, TCP/IP headers included). *CPU*: the client process per op (all threads); *server CPU*: the S3 server (nginx for the HTTP ceiling) per op.',
    '- *peak RSS*: the client process\'s high-water mark (worst round). *max EL delay*: the largest event-loop delay seen by `monitorEventLoopDelay` while timed (Node peers; worst round); *GC* after it: the longest garbage-collection pause of that round, when it was at least half the delay (the collector\'s pause, stretched by CPU contention, rather than the peer\'s own work). *own*: the largest lateness of a 1 ms timer tick less the time the main thread spent runnable but waiting for a CPU in that tick (`/proc/<pid>/task/<pid>/schedstat`; worst round): the stall the peer\'s own work caused (JS, GC, native calls on the main thread), without the time the server or other threads held both cores. It comes from a timer of its own (a JS interval, where the delay comes from libuv\'s histogram), so it can exceed the delay when its timer saw the longer gap.',
    '- GET reads the whole object into memory (the raw client only counts the bytes). PUT up to 1 MiB sends a Buffer; larger PUTs stream from a tmpfs file (the raw client sends from memory), and the large ones also run from a Buffer (`-buf`). Writes use overwrite semantics (a plain PUT), except create-only (`overwrite: false`; the SDK and the raw client send If-None-Match: *).',
    '- Rows with a server after the title ran on each of the run\'s servers for the SDK comparison (one row each); the others on the fastest server for that workload.',
    '',
  );
  L.push('## Ceilings', '');
  L.push(`- Loopback TCP (iperf3): **${fmt(m.ceilings.tcpGbps.streams1)} Gbit/s** with one stream (${fmt((m.ceilings.tcpGbps.streams1 * 1e9) / 8 / MiB)} MiB/s), ${fmt(m.ceilings.tcpGbps.streams4)} Gbit/s with four.`);
  L.push(`- The raw keep-alive client, per workload: nginx, then each S3 server (its share of nginx), and the server the peers then ran against (${m.server}).`);
  const seen = new Set();
  for (const w of sum.filter((x) => x.raw)) {
    if (seen.has(w.id)) continue;
    seen.add(w.id);
    const on = sum.filter((x) => x.id === w.id).map((x) => x.server).join(' and ');
    const h = w.rows.find((r) => r.peer.ceiling === 'http');
    const servers = w.rows.filter((r) => r.peer.ceiling === 'server' && r.time);
    if (h?.time) {
      const name = (r) => r.peer.name.replace(/^raw HTTP → /, '').replace(' (presigned)', '');
      L.push(`  - ${w.title}: nginx ${value(w, h.time).text}${servers.map((r) => `; ${name(r)} ${value(w, r.time).text} (${pct(h.time / r.time)})`).join('')} → peers on **${on}**`);
    }
  }
  L.push('');
  L.push('## Targets (issues 14 and 17)', '');
  L.push(
    `Ours is ${OURS_FAST} for speed (GET/PUT ≥ ${m.quick ? '32' : '64'} MiB, 4 KiB writes, HEAD, concurrency), \`s3\` for its write and HEAD overheads; every Node peer of ours for the event loop. ` +
      `Rows judged against the raw SDK ran on each of ${(m.bothServers ?? []).join(' and ') || 'the run\'s server'}. Ratios are of medians (ops/s rows: of their rates).`,
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
  );
  for (const [what, got, ok] of targets(sum)) L.push(`| ${what} | ${got} | ${ok === undefined ? '—' : ok ? 'yes' : '**no**'} |`);
  L.push('');
  L.push('## Summary (median)', '');
  // One table for the byte workloads, one for Parquet: they have different peers.
  for (const part of [sum.filter((w) => !w.parquet), sum.filter((w) => w.parquet)].filter((p) => p.length)) {
    const ids = m.peers.map((p) => p.id).filter((id) => part.some((w) => w.rows.some((r) => r.id === id)));
    L.push(`| workload (S3 server) | ${ids.map((id) => m.peers.find((p) => p.id === id).name).join(' | ')} |`, `| --- |${ids.map(() => ' ---: |').join('')}`);
    for (const w of part) {
      const cells = ids.map((id) => {
        const r = w.rows.find((x) => x.id === id);
        if (!r) return '';
        if (r.time === undefined) return r.pending ? 'pending (issue 6)' : 'failed';
        const t = `${value(w, r.time).text}${w.fallbacks?.[id] ? ` (on ${w.fallbacks[id].server})` : ''}`;
        return r.vsBest === 1 && !r.peer.ceiling ? `**${t}**` : t;
      });
      L.push(`| ${w.title} (${w.server}) | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  L.push('![chart](results.svg)', '');
  L.push('## Details', '');
  for (const w of sum) {
    L.push(`### ${w.title}${w.both ? ` — ${w.server}` : ''}`, '', `Peers on ${w.server}.${w.selectedBytes ? ` The selected column chunks are ${bytes(w.selectedBytes)}.` : ''}`, '');
    L.push('| peer | median | × best | % HTTP ceiling | % server ceiling | wire / op | CPU / op | server CPU / op | peak RSS | max EL delay |');
    L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of w.rows) {
      if (r.time === undefined) {
        const why = r.pending ? /pending: [^\n]*/.exec(r.error)[0] : `failed: ${reason(r.error)}`;
        L.push(`| ${r.peer.name} | ${why} |||||||||`);
        continue;
      }
      L.push(
        `| ${r.peer.name} | ${value(w, r.time).text} | ${fmt(r.vsBest)} | ${pct(r.ofHttp)} | ${pct(r.ofServer)} | ${bytes(r.wire)} | ` +
          `${fmt(r.cpu * 1000)} ms | ${fmt(r.serverCpu * 1000)} ms | ${bytes(r.rss)} | ${r.eventLoop === undefined ? '—' : delayText(r)} |`,
      );
    }
    for (const [id, why] of Object.entries(w.without ?? {})) L.push('', `${id} does not take part: ${why}.`);
    for (const [id, f] of Object.entries(w.fallbacks ?? {})) {
      L.push('', `${w.rows.find((r) => r.id === id).peer.name} ran on ${f.server}: ${w.server} refused it (${reason(f.error)}).`);
    }
    const failed = w.rows.filter((r) => r.failed && r.time !== undefined);
    for (const r of failed) L.push('', `${r.peer.name}: ${r.failed} of ${r.rounds} round(s) failed: ${reason(r.error)}`);
    L.push('');
  }
  return L.join('\n');
}

/**
 * A horizontal bar chart, one panel per headline workload, one bar per peer: ceilings grey,
 * ours blue, other peers orange; each panel says whether longer is better.
 */
export function chart(sum) {
  const panels = sum.filter((w) => ['GET', 'PUT', 'concurrent', 'Parquet', 'Dataset'].includes(w.group) && w.rows.some((r) => r.time !== undefined));
  const W = 820;
  const labelW = 300;
  const barH = 16;
  const gap = 4;
  let y = 40;
  const parts = [];
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  for (const w of panels) {
    const rows = w.rows.filter((r) => r.time !== undefined);
    const vals = rows.map((r) => value(w, r.time).n);
    const max = Math.max(...vals);
    parts.push(
      `<text x="10" y="${y + 12}" font-weight="bold">${esc(w.title)}${w.both ? ` (${esc(w.server)})` : ''} — ${value(w, 1).unit}, ${higherIsBetter(w) ? 'longer' : 'shorter'} is better</text>`,
    );
    y += 20;
    rows.forEach((r, i) => {
      const len = Math.max(1, ((W - labelW - 90) * vals[i]) / max);
      const color = r.peer.ceiling ? '#9e9e9e' : r.peer.ours ? '#1f77b4' : '#ff7f0e';
      parts.push(
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(r.peer.name)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="${color}"/>`,
        `<text x="${(labelW + len + 4).toFixed(1)}" y="${y + 12}">${fmt(vals[i])}</text>`,
      );
      y += barH + gap;
    });
    y += 12;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" font-family="sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    `<text x="10" y="22" font-size="15" font-weight="bold">remote-store for Node vs peers and ceilings (127.0.0.1, medians)</text>\n` +
    `${parts.join('\n')}\n</svg>\n`
  );
}

/** Writes results.md and results.svg into `dir`; returns their paths. */
export function writeReport(results, dir) {
  const sum = summarize(results);
  mkdirSync(dir, { recursive: true });
  const md = join(dir, 'results.md');
  const svg = join(dir, 'results.svg');
  writeFileSync(md, markdown(results, sum));
  writeFileSync(svg, chart(sum));
  return [md, svg];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, dir] = process.argv.slice(2);
  console.log(writeReport(JSON.parse(readFileSync(file, 'utf8')), dir ?? join(file, '..', '..')).join('\n'));
}
