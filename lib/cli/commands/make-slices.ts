// slice-distill make-slices: axial slices cut out of labelled volumes into a single-slice dataset.
import type { SliceSource } from '../../data/make-slices.js';
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';

export const makeSlicesCommand: CommandSpec = {
  name: 'make-slices',
  summary: 'Cut axial slices out of labelled volumes into a single-slice dataset (slices of one scan under one subject).',
  description:
    'Each --volumes is a dataset folder (its labelled volumes) or IMAGE,LABEL[,FROM:TO] (NIfTI or DICOM; the label ids\n' +
    'read through --label-map). --z takes RAS slice indices (repeatable, or FROM:TO for a range); --kidney-level N\n' +
    'takes N slices evenly through the z-range holding a kidney. Writes OUT/slices/SUBJECT_zZZZ(.nii.gz, _seg.nii.gz)\n' +
    'with labels in class ids, and OUT/dataset.json (validated).',
  options: {
    volumes: { type: 'string', description: 'A dataset folder, or IMAGE,LABEL', multiple: true, placeholder: 'SRC' },
    z: { type: 'string', description: 'RAS slice index, or FROM:TO (end excluded)', multiple: true, placeholder: 'Z' },
    'kidney-level': { type: 'integer', description: 'N slices evenly through the kidneys (classes 2 and 3)', placeholder: 'N' },
    'label-map': {
      type: 'string',
      description: 'For IMAGE,LABEL pairs: identity, btcv, amos, totalsegmentatorV1 or totalsegmentatorV2',
      default: 'identity',
      placeholder: 'NAME',
    },
    'with-volumes': {
      type: 'boolean',
      description: "Also list the source volumes (the teacher's data) in the dataset; their labels must already be in class ids",
    },
    out: { type: 'string', description: 'The dataset folder to write', required: true, short: 'o', placeholder: 'DIR' },
  },
  examples: [
    'slice-distill make-slices --volumes ct.nii.gz,seg.nii.gz --kidney-level 3 --out data/slices',
    'slice-distill make-slices --volumes data/volumes --z 80:84 --out data/slices',
  ],
  async run(args, io) {
    const o = args.options;
    const sources = o.volumes as string[];
    const zs = o.z as string[];
    if (sources.length === 0) throw new UsageError('--volumes is required', 'make-slices');
    const perVolume = sources.some((s) => s.split(',').length === 3);
    if (!perVolume && zs.length > 0 === (o['kidney-level'] !== undefined))
      throw new UsageError('give either --z or --kidney-level (or IMAGE,LABEL,FROM:TO)', 'make-slices');
    if (o['kidney-level'] !== undefined && !((o['kidney-level'] as number) >= 1)) throw new UsageError('--kidney-level expects at least 1', 'make-slices');
    const parseZ = (specs: string[]): number[] => {
      const z: number[] = [];
      for (const spec of specs) {
        const m = /^(\d+)(?::(\d+))?$/.exec(spec.trim());
        if (!m || (m[2] !== undefined && Number(m[2]) <= Number(m[1])))
          throw new UsageError(`--z expects an index or FROM:TO with FROM < TO, got '${spec}'`, 'make-slices');
        if (m[2] === undefined) z.push(Number(m[1]));
        else for (let k = Number(m[1]); k < Number(m[2]); k++) z.push(k);
      }
      return z;
    };
    const z = parseZ(zs);
    const { LABEL_MAPS, LabelMapper } = await import('../../data/labels.js');
    const mapName = String(o['label-map']);
    if (!(mapName in LABEL_MAPS)) throw new UsageError(`--label-map expects one of ${Object.keys(LABEL_MAPS).join(', ')}, got '${mapName}'`, 'make-slices');
    const { existsSync, statSync } = await import('node:fs');
    const path = (await import('node:path')).default;
    const { loadDataset, assertValidDataset } = await import('../../data/dataset.js');
    const { imageStem } = await import('../../data/image-io.js');
    const list: SliceSource[] = [];
    for (const src of sources) {
      if (existsSync(src) && statSync(src).isDirectory() && existsSync(path.join(src, 'dataset.json'))) {
        const ds = await loadDataset(src);
        for (const v of ds.volumes)
          if (v.label) list.push({ image: v.image, label: v.label, subject: v.phase ? `${v.subject}_${v.phase}` : v.subject, labelMap: ds.labelMap });
        continue;
      }
      const [image, label, range, extra] = src.split(',');
      if (!image || !label || extra !== undefined)
        throw new UsageError(`--volumes expects a dataset folder or IMAGE,LABEL[,FROM:TO], got '${src}'`, 'make-slices');
      list.push({
        image,
        label,
        subject: imageStem(image).replace(/_0000$/, ''),
        labelMap: new LabelMapper(LABEL_MAPS[mapName as keyof typeof LABEL_MAPS]),
        ...(range ? { z: parseZ([range]) } : {}),
      });
    }
    const subjects = list.map((s) => s.subject);
    const twice = subjects.find((s, i) => subjects.indexOf(s) !== i);
    if (twice) throw new UsageError(`two volumes would both be subject '${twice}'; rename one`, 'make-slices');
    const { makeSlices } = await import('../../data/make-slices.js');
    const { writeDatasetJson } = await import('../../data/import/write-dataset.js');
    const out = path.resolve(String(o.out));
    const entries = await makeSlices(list, z.length ? { z } : o['kidney-level'] !== undefined ? { kidneyLevel: o['kidney-level'] as number } : null, out, (l) =>
      io.stderr(l + '\n'),
    );
    if (o['with-volumes']) {
      // one labelMap serves the whole dataset: the cut slices are in class ids, so the volumes must be too
      const identity = (m: InstanceType<typeof LabelMapper>) => m.entries().every(([k, v]) => k === v || (k > 6 && v === 0));
      const other = list.find((s) => !identity(s.labelMap));
      if (other) throw new UsageError(`--with-volumes: ${other.label} is not in class ids (--label-map identity); import the volumes first`, 'make-slices');
      entries.volumes = list.map((s) => ({ image: path.resolve(s.image), label: path.resolve(s.label), subject: s.subject }));
    }
    const file = await writeDatasetJson(out, entries);
    await assertValidDataset(await loadDataset(file));
    io.stdout(
      `${file}: ${entries.volumes.length ? `${entries.volumes.length} volumes, ` : ''}${entries.slices.length} slices of ${list.length} scan${list.length === 1 ? '' : 's'}; valid\n`,
    );
  },
};
