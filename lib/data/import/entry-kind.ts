// Whether an imported image is a volume or a single slice: by its header, one slice in RAS z.
import { readImage } from '../image-io.js';

export async function isSingleSlice(image: string): Promise<boolean> {
  const h = await readImage(image, { headerOnly: true });
  return h.shape[2] === 1;
}
