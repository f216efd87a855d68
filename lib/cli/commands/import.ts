// slice-distill import nnunet|totalsegmentator DIR --out DIR: a dataset.json over data in
// another tool's layout, validated before it is reported as done.
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';

const KINDS = ['nnunet', 'totalsegmentator'];

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'Make a dataset folder from an nnU-Net raw dataset or TotalSegmentator outputs (validated).',
  description:
    'nnunet DIR: imagesTr/CASE_0000.nii.gz and labelsTr/CASE.nii.gz; the label map is built from the names in\n' +
    "nnU-Net's dataset.json (other structures become background). Files are referenced, not copied.\n" +
    'totalsegmentator DIR: SUBJECT/ct.nii.gz with SUBJECT/segmentations/*.nii.gz (one mask per structure; merged\n' +
    'into OUT/labels/SUBJECT.nii.gz), or with --ml one multi-label file per subject in v1 or v2 ids.\n' +
    'Single-slice images become "slices", others "volumes". OUT/dataset.json is then validated.',
  positionals: [
    { name: 'kind', description: 'nnunet or totalsegmentator' },
    { name: 'dir', description: 'The source folder' },
  ],
  options: {
    out: { type: 'string', description: 'The dataset folder to write (dataset.json, merged labels)', required: true, short: 'o', placeholder: 'DIR' },
    ml: { type: 'boolean', description: 'totalsegmentator: one multi-label file per subject (TotalSegmentator --ml)' },
    'ml-name': {
      type: 'string',
      description: 'totalsegmentator --ml: the file name in each subject folder',
      default: 'segmentations.nii.gz',
      placeholder: 'NAME',
    },
    ids: { type: 'string', description: 'totalsegmentator --ml: v2, or v1 (also MONAI wholeBody: aorta 7)', default: 'v2', placeholder: 'V' },
  },
  examples: ['slice-distill import nnunet Dataset017_BTCV --out data/btcv', 'slice-distill import totalsegmentator ts-out/ --ml --ids v1 --out data/ts'],
  async run(args, io) {
    const [kind, dir] = args.positionals as [string, string];
    if (!KINDS.includes(kind)) throw new UsageError(`KIND expects ${KINDS.join(' or ')}, got '${kind}'`, 'import');
    const ids = String(args.options.ids);
    if (ids !== 'v1' && ids !== 'v2') throw new UsageError(`--ids expects v1 or v2, got '${ids}'`, 'import');
    const path = (await import('node:path')).default;
    const out = path.resolve(String(args.options.out));
    if (path.resolve(dir) === out) throw new UsageError('--out must differ from DIR (nnU-Net and this tool both name their file dataset.json)', 'import');
    const { writeDatasetJson } = await import('../../data/import/write-dataset.js');
    const log = (line: string): void => io.stderr(line + '\n');
    let entries;
    if (kind === 'nnunet') {
      const { importNnunet } = await import('../../data/import/nnunet.js');
      entries = await importNnunet(dir);
      if (entries.ignored.length) log(`import: not among the seven classes, read as background: ${entries.ignored.join(', ')}`);
    } else {
      const { importTotalsegmentator } = await import('../../data/import/totalsegmentator.js');
      entries = await importTotalsegmentator(dir, { ml: args.options.ml === true, mlName: String(args.options['ml-name']), ids, out, log });
    }
    const file = await writeDatasetJson(out, entries);
    const { loadDataset, assertValidDataset } = await import('../../data/dataset.js');
    await assertValidDataset(await loadDataset(file));
    io.stdout(`${file}: ${entries.volumes.length} volumes, ${entries.slices.length} slices; valid\n`);
  },
};
