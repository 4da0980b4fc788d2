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
      const el = ok.map((r) => r.eventLoopMaxMs).filter((x) => x !== null && x !== undefined);
      row.eventLoop = el.length ? Math.max(...el) : undefined;
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

/** The targets of issue 7, checked against the summary (or marked as not measured). */
function targets(sum) {
  const row = (id, peer) => sum.find((w) => w.id === id)?.rows.find((r) => r.id === peer && r.time !== undefined);
  const out = [];
  const big = sum.filter((w) => (w.group === 'GET' || w.group === 'PUT') && w.bytes >= 32 * MiB);
  for (const w of big) {
    const a = row(w.id, 's3-arrow');
    const sdk = row(w.id, 'aws-sdk');
    if (!a) continue;
    out.push([`${w.id}: s3-arrow ≥ 85 % of the raw-HTTP ceiling`, pct(a.ofHttp), a.ofHttp >= 0.85]);
    if (sdk) out.push([`${w.id}: s3-arrow ≥ 2× AWS SDK direct`, `${fmt(sdk.time / a.time)}×`, sdk.time / a.time >= 2]);
  }
  for (const id of ['get-4KiB', 'put-4KiB']) {
    const a = row(id, 's3-arrow');
    const b = row(id, 's3');
    if (a && b) out.push([`${id}: s3-arrow latency ≤ s3`, `${fmt(a.time * 1000)} vs ${fmt(b.time * 1000)} ms`, a.time <= b.time]);
  }
  const native = sum.filter((w) => w.bytes >= MiB).map((w) => row(w.id, 's3-arrow')).filter((r) => r?.eventLoop !== undefined);
  if (native.length) {
    const worst = Math.max(...native.map((r) => r.eventLoop));
    out.push(['event loop: max delay ≤ 20 ms during native transfers (s3-arrow, ≥ 1 MiB)', `${fmt(worst)} ms`, worst <= 20]);
  }
  const up = sum.find((w) => w.group === 'PUT' && w.bytes >= GiB);
  const upRow = up && row(up.id, 's3-arrow');
  if (upRow) out.push(['peak RSS of a streaming 1 GiB upload (s3-arrow) ≤ 256 MiB', bytes(upRow.rss), upRow.rss <= 256 * MiB]);
  else out.push(['peak RSS of a streaming 1 GiB upload (s3-arrow) ≤ 256 MiB', 'not measured (no 1 GiB PUT in this run)', undefined]);
  const pq = sum.find((w) => w.id === 'pq-2of20');
  if (pq) {
    const ours = row('pq-2of20', 'pq-ours');
    const raw = row('pq-2of20', 'pq-raw');
    const polars = row('pq-2of20', 'polars');
    const na = 'not measured';
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
  const loops = ['ds-2of10', 'ds-write', 'pq-2of20'].map((id) => [id, row(id, 'pq-ours')]).filter(([, r]) => r?.eventLoop !== undefined);
  if (loops.length) {
    const worst = Math.max(...loops.map(([, r]) => r.eventLoop));
    out.push([`event loop: max delay ≤ 20 ms during Parquet and dataset reads and writes (${loops.map(([id, r]) => `${id} ${fmt(r.eventLoop)} ms`).join(', ')})`, `${fmt(worst)} ms`, worst <= 20]);
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
    '- *peak RSS*: the client process\'s high-water mark (worst round). *max EL delay*: the largest event-loop delay seen by `monitorEventLoopDelay` while timed (Node peers; worst round).',
    '- GET reads the whole object into memory (the raw client only counts the bytes). PUT up to 1 MiB sends a Buffer; larger PUTs stream from a tmpfs file (the raw client sends from memory). Writes use overwrite semantics (a plain PUT).',
    '',
  );
  L.push('## Ceilings', '');
  L.push(`- Loopback TCP (iperf3): **${fmt(m.ceilings.tcpGbps.streams1)} Gbit/s** with one stream (${fmt((m.ceilings.tcpGbps.streams1 * 1e9) / 8 / MiB)} MiB/s), ${fmt(m.ceilings.tcpGbps.streams4)} Gbit/s with four.`);
  L.push(`- The raw keep-alive client, per workload: nginx, then each S3 server (its share of nginx), and the server the peers then ran against (${m.server}).`);
  for (const w of sum.filter((x) => x.raw)) {
    const h = w.rows.find((r) => r.peer.ceiling === 'http');
    const servers = w.rows.filter((r) => r.peer.ceiling === 'server' && r.time);
    if (h?.time) {
      const name = (r) => r.peer.name.replace(/^raw HTTP → /, '').replace(' (presigned)', '');
      L.push(`  - ${w.title}: nginx ${value(w, h.time).text}${servers.map((r) => `; ${name(r)} ${value(w, r.time).text} (${pct(h.time / r.time)})`).join('')} → peers on **${w.server}**`);
    }
  }
  L.push('');
  L.push('## Targets (issues 7 and 17)', '', '| target | measured | met |', '| --- | --- | --- |');
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
    L.push(`### ${w.title}`, '', `Peers on ${w.server}.${w.selectedBytes ? ` The selected column chunks are ${bytes(w.selectedBytes)}.` : ''}`, '');
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
          `${fmt(r.cpu * 1000)} ms | ${fmt(r.serverCpu * 1000)} ms | ${bytes(r.rss)} | ${r.eventLoop === undefined ? '—' : `${fmt(r.eventLoop)} ms`} |`,
      );
    }
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
      `<text x="10" y="${y + 12}" font-weight="bold">${esc(w.title)} — ${value(w, 1).unit}, ${higherIsBetter(w) ? 'longer' : 'shorter'} is better</text>`,
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
