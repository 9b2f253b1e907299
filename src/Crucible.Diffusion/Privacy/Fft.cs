using System.Numerics;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// Discrete Fourier transforms in double precision for the PRV accountant: an iterative radix-2 FFT, and Bluestein's
/// chirp-z algorithm for any other length (X_k = w_k · Σ_j (x_j w_j) · conj(w_{k−j}), w_j = e^{−iπ j²/n}).
/// </summary>
public static class Fft
{
    /// <summary>The DFT X_k = Σ_j x_j e^{−2πi jk/n} of any length.</summary>
    public static Complex[] Forward(ReadOnlySpan<Complex> x)
    {
        var n = x.Length;
        if (n == 0) return [];
        if ((n & (n - 1)) == 0)
        {
            var a = x.ToArray();
            Radix2(a, inverse: false);
            return a;
        }

        // Chirp w_j = e^{−iπ (j² mod 2n)/n}; reducing j² mod 2n keeps the angle exact for large j.
        var chirp = new Complex[n];
        for (long j = 0; j < n; j++)
        {
            var (sin, cos) = Math.SinCos(-Math.PI * (j * j % (2L * n)) / n);
            chirp[j] = new Complex(cos, sin);
        }

        var m = 1;
        while (m < 2 * n - 1) m <<= 1;
        var av = new Complex[m];
        var bv = new Complex[m];
        for (var j = 0; j < n; j++) av[j] = x[j] * chirp[j];
        bv[0] = Complex.Conjugate(chirp[0]);
        for (var j = 1; j < n; j++) bv[j] = bv[m - j] = Complex.Conjugate(chirp[j]);
        Radix2(av, false);
        Radix2(bv, false);
        for (var i = 0; i < m; i++) av[i] *= bv[i];
        Radix2(av, true);
        var result = new Complex[n];
        for (var k = 0; k < n; k++) result[k] = av[k] / m * chirp[k];
        return result;
    }

    /// <summary>The inverse DFT x_j = (1/n) Σ_k X_k e^{2πi jk/n}.</summary>
    public static Complex[] Inverse(ReadOnlySpan<Complex> spectrum)
    {
        var n = spectrum.Length;
        var conj = new Complex[n];
        for (var i = 0; i < n; i++) conj[i] = Complex.Conjugate(spectrum[i]);
        var f = Forward(conj);
        for (var i = 0; i < n; i++) f[i] = Complex.Conjugate(f[i]) / n;
        return f;
    }

    /// <summary>In-place radix-2 FFT (unnormalised both ways); <paramref name="a"/>.Length must be a power of two.</summary>
    private static void Radix2(Complex[] a, bool inverse)
    {
        var n = a.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (a[i], a[j]) = (a[j], a[i]);
        }

        // Twiddles from one table computed directly (no recurrence), so errors do not accumulate across stages.
        var table = new Complex[n / 2];
        for (var k = 0; k < n / 2; k++)
        {
            var (sin, cos) = Math.SinCos((inverse ? 2 : -2) * Math.PI * k / n);
            table[k] = new Complex(cos, sin);
        }

        for (var len = 2; len <= n; len <<= 1)
        {
            var half = len >> 1;
            var step = n / len;
            for (var i = 0; i < n; i += len)
            {
                for (var k = 0; k < half; k++)
                {
                    var w = table[k * step];
                    var u = a[i + k];
                    var v = a[i + k + half] * w;
                    a[i + k] = u + v;
                    a[i + k + half] = u - v;
                }
            }
        }
    }
}
