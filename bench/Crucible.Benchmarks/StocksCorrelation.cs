using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Crucible.Evaluation.Learned;
using Crucible.Evaluation.Reporting;

namespace Crucible.Benchmarks;

/// <summary>
/// The correlational score of a synthetic window set separated from its draw noise (issue #7): the gap of the whole
/// sets (no draws), the gap of each feature pair, and the mean over many protocol-sized draws (⌊N/5⌋ with replacement)
/// of the synthetic set's score and of an exact copy's score with the same draws (the copy's mean is the floor a
/// perfect generator would reach). Also reads and writes window sets as numpy <c>.npy</c> (float64, (N, T, D)).
/// </summary>
internal static class StocksCorrelation
{
    /// <summary>The analysis as one JSON object (no trailing newline).</summary>
    public static string Analyse(WindowSet real, WindowSet synthetic, IReadOnlyList<string> names, int draws, ulong seed)
    {
        var inv = CultureInfo.InvariantCulture;
        var syn = synthetic.Count > real.Count ? synthetic.Take(real.Count) : synthetic;
        var cr = CorrelationalScore.CrossCorrelations(real);
        var cs = CorrelationalScore.CrossCorrelations(syn);
        var sb = new StringBuilder();
        sb.Append(inv, $"{{\"full_gap\": {ReportJson.FormatNumber(CorrelationalScore.Compute(real, syn))}");
        if (draws > 0)
        {
            var size = real.Count / 5;
            var ours = CorrelationalScore.Draws(real, syn, seed, draws, size);
            var copy = CorrelationalScore.Draws(real, real, seed, draws, size);
            var diff = ours.Zip(copy, (a, b) => a - b).ToArray();
            static (double Mean, double Se) MeanSe(double[] x)
            {
                var m = x.Average();
                var v = x.Sum(y => (y - m) * (y - m)) / (x.Length - 1);
                return (m, Math.Sqrt(v / x.Length));
            }

            var (om, ose) = MeanSe(ours);
            var (cm, cse) = MeanSe(copy);
            var (dm, dse) = MeanSe(diff);
            sb.Append(inv, $", \"draws\": {draws}, \"draw_size\": {size}, \"expected\": {ReportJson.FormatNumber(om)}, \"expected_se\": {ReportJson.FormatNumber(ose)}");
            sb.Append(inv, $", \"copy_expected\": {ReportJson.FormatNumber(cm)}, \"copy_expected_se\": {ReportJson.FormatNumber(cse)}");
            sb.Append(inv, $", \"excess\": {ReportJson.FormatNumber(dm)}, \"excess_se\": {ReportJson.FormatNumber(dse)}");
            // the protocol's figure is the mean of 5 draws: the share of consecutive 5-draw means at or below the target
            static double Share5(double[] x) => Enumerable.Range(0, x.Length / 5).Count(g => x.AsSpan(g * 5, 5).ToArray().Average() <= 0.004) / (double)(x.Length / 5);
            sb.Append(inv, $", \"mean5_share_le_0.004\": {ReportJson.FormatNumber(Share5(ours))}, \"copy_mean5_share_le_0.004\": {ReportJson.FormatNumber(Share5(copy))}");
            sb.Append(inv, $", \"share_le_0.004\": {ReportJson.FormatNumber(ours.Count(x => x <= 0.004) / (double)draws)}, \"copy_share_le_0.004\": {ReportJson.FormatNumber(copy.Count(x => x <= 0.004) / (double)draws)}");
        }

        sb.Append(", \"pairs\": [");
        var p = 0;
        for (var i = 0; i < real.Features; i++)
        {
            for (var j = 0; j <= i; j++, p++)
            {
                if (p > 0) sb.Append(", ");
                sb.Append(inv, $"{{\"pair\": \"{Name(names, i)}-{Name(names, j)}\", \"real\": {cr[p]:F5}, \"synthetic\": {cs[p]:F5}, \"gap\": {cs[p] - cr[p]:F5}}}");
            }
        }

        sb.Append("]}");
        return sb.ToString();
    }

    private static string Name(IReadOnlyList<string> names, int i) => i < names.Count ? names[i] : i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the windows as a version-1.0 <c>.npy</c> file of little-endian float64, shape (N, T, D).</summary>
    public static void WriteNpy(string path, WindowSet windows)
    {
        var header = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({windows.Count}, {windows.Length}, {windows.Features}), }}");
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var bytes = new byte[windows.Values.Length * sizeof(double)];
        for (var k = 0; k < windows.Values.Length; k++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(k * 8), windows.Values[k]);
        stream.Write(bytes);
    }

    /// <summary>Reads a <see cref="WriteNpy"/> file (little-endian float64, C order, three dimensions).</summary>
    public static WindowSet ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw new InvalidDataException($"{path}: not a .npy file");
        int headerLength = bytes[6] == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var start = bytes[6] == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, start, headerLength);
        if (!header.Contains("'<f8'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: only little-endian float64 in C order is read");
        var shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        var shape = shapeText[..shapeText.IndexOf(')', StringComparison.Ordinal)].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (shape.Length != 3) throw new InvalidDataException($"{path}: expected three dimensions");
        var offset = start + headerLength;
        var values = new double[(long)shape[0] * shape[1] * shape[2]];
        for (var k = 0; k < values.Length; k++) values[k] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(offset + (k * 8)));
        return new WindowSet(values, shape[0], shape[1], shape[2]);
    }
}
