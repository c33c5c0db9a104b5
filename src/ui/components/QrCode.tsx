import { useEffect, useState } from 'react';
import QRCode from 'qrcode';
import { errorMessage } from '../format';

/** A QR code of `text` as an image (black on white with a quiet zone, so phone cameras read it off a projector). */
export function QrCode({ text, size, label }: { text: string; size: number; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: size * Math.ceil(window.devicePixelRatio || 1), color: { dark: '#000000', light: '#ffffff' } })
      .then((url) => {
        if (!cancelled) {
          setSrc(url);
          setError(null);
        }
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(`Could not draw the QR code: ${errorMessage(e)}`);
      });
    return () => {
      cancelled = true;
    };
  }, [text, size]);
  if (error) return <p className="error-text">{error}</p>;
  if (!src) return <div className="qr-placeholder" style={{ width: size, height: size }} aria-hidden="true" />;
  return <img className="qr" src={src} width={size} height={size} alt={label} />;
}
