// photo.js — photos from the phone camera or a file, shrunk in the browser
// to at most MAX_SIDE pixels on the long side and re-encoded as JPEG before
// upload (a 4000×3000 phone photo of 5 MB becomes ~300 KB: it uploads on a
// slow connection and fits the server's limit).
const MAX_SIDE = 1600;


function decode(file) {
  if (window.createImageBitmap) {
    return createImageBitmap(file, { imageOrientation: 'from-image' }).catch(() => decodeImg(file));
  }
  return decodeImg(file);
}
function decodeImg(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { resolve(img); setTimeout(() => URL.revokeObjectURL(url), 0); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('not an image')); };
    img.src = url;
  });
}

// Shrinks a photo to at most MAX_SIDE pixels on its long side, as JPEG.
export async function shrink(file) {
  const img = await decode(file);
  const w = img.width, hgt = img.height;
  const k = Math.min(1, MAX_SIDE / Math.max(w, hgt));
  const c = document.createElement('canvas');
  c.width = Math.round(w * k);
  c.height = Math.round(hgt * k);
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.drawImage(img, 0, 0, c.width, c.height);
  if (img.close) img.close();
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', 0.82));
}

