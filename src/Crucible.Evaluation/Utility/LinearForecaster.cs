using System.Numerics.Tensors;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Utility;

/// <summary>
/// A multi-output least-squares forecaster with intercept (scikit-learn's <c>LinearRegression</c>), fitted in double
/// precision by the normal equations of the centred design: (X_cᵀX_c) B = X_cᵀY_c, solved by Cholesky; intercept
/// = ȳ − x̄ᵀB. If the Gram matrix is not positive definite (a constant or collinear feature, e.g. a collapsed
/// generator), a ridge of 1e-10 times its mean diagonal is added so the fit still exists.
/// </summary>
internal sealed class LinearForecaster
{
    private readonly double[] _flat; // B row-major: feature a's coefficients for every target at [a·d, (a + 1)·d)

    private LinearForecaster(double[,] coefficients, double[] intercept)
    {
        Coefficients = coefficients;
        Intercept = intercept;
        var (p, d) = (coefficients.GetLength(0), coefficients.GetLength(1));
        _flat = new double[p * d];
        for (var a = 0; a < p; a++)
        {
            for (var j = 0; j < d; j++) _flat[(a * d) + j] = coefficients[a, j];
        }
    }

    /// <summary>B: (features, targets).</summary>
    public double[,] Coefficients { get; }

    /// <summary>One intercept per target.</summary>
    public double[] Intercept { get; }

    public static LinearForecaster Fit(LaggedDesign design, int maxDegreeOfParallelism = -1)
    {
        int p = design.Features, d = design.Series, n = design.Rows;
        if (n < 2) throw new ArgumentException($"{n} samples: too few to fit a forecaster", nameof(design));
        // columns 0..p−1 are the features, p..p+d−1 the targets
        var m = p + d;
        var sums = design.Sums();
        var mean = new double[m];
        for (var k = 0; k < m; k++) mean[k] = sums[k] / n;
        // centred cross products of every feature with every feature and target (columns p.. are the targets)
        var gram = (double[,])design.CrossProducts(maxDegreeOfParallelism).Clone();
        for (var a = 0; a < p; a++)
        {
            for (var b = a; b < m; b++) gram[a, b] -= n * mean[a] * mean[b];
        }
        var g = new double[p, p];
        for (var a = 0; a < p; a++)
        {
            for (var b = a; b < p; b++) g[a, b] = g[b, a] = gram[a, b];
        }
        var l = Cholesky.Decompose(g, 1e-13) ?? Cholesky.Decompose(Ridged(g), 1e-13) ?? throw new InvalidOperationException("the forecaster's Gram matrix could not be factored");
        var coef = new double[p, d];
        var rhs = new double[p];
        for (var j = 0; j < d; j++)
        {
            for (var a = 0; a < p; a++) rhs[a] = gram[a, p + j];
            var x = Solve(l, rhs);
            for (var a = 0; a < p; a++) coef[a, j] = x[a];
        }
        // intercept in original units: y = ȳ + Bᵀ(x − x̄), with the design's centring constants added back
        var intercept = new double[d];
        for (var j = 0; j < d; j++)
        {
            var s = mean[p + j] + design.Centre[j];
            for (var a = 0; a < p; a++) s -= (mean[a] + design.Centre[design.SeriesOf(a)]) * coef[a, j];
            intercept[j] = s;
        }
        return new LinearForecaster(coef, intercept);
    }

    /// <summary>The prediction at the design's centring point (all centred features 0): intercept + Bᵀc, per target.</summary>
    public double[] Offset(LaggedDesign design)
    {
        int p = design.Features, d = design.Series;
        var offset = (double[])Intercept.Clone();
        for (var a = 0; a < p; a++)
        {
            var c = design.Centre[design.SeriesOf(a)];
            for (var j = 0; j < d; j++) offset[j] += Coefficients[a, j] * c;
        }
        return offset;
    }

    /// <summary>Predictions for every sample of <paramref name="design"/>, one array (over samples) per target.</summary>
    public double[][] Predict(LaggedDesign design)
    {
        int p = design.Features, d = design.Series, n = design.Rows;
        // the design's columns are centred: fold its constants into the intercept once
        var offset = Offset(design);
        var pred = new double[d][];
        for (var j = 0; j < d; j++)
        {
            pred[j] = new double[n];
            Array.Fill(pred[j], offset[j]);
        }
        for (var a = 0; a < p; a++) AddContribution(design, a, pred);
        return pred;
    }

    /// <summary>pred[j][r] += x[r, a]·B[a, j] for feature column a and every target j (x centred: row differences are unchanged).</summary>
    public void AddContribution(LaggedDesign design, int feature, double[][] pred)
    {
        var at = 0;
        for (var q = 0; q < design.PathCount; q++)
        {
            var col = design.Column(q, feature);
            for (var j = 0; j < pred.Length; j++)
            {
                var dst = pred[j].AsSpan(at, col.Length);
                TensorPrimitives.MultiplyAdd(col, _flat[(feature * pred.Length) + j], dst, dst);
            }
            at += col.Length;
        }
    }

    private static double[,] Ridged(double[,] g)
    {
        var p = g.GetLength(0);
        double trace = 0;
        for (var a = 0; a < p; a++) trace += g[a, a];
        // an all-zero Gram (every feature constant) takes the smallest positive ridge (1e-10·ε would underflow to 0): its
        // right-hand sides are 0 too, so the coefficients are 0, least squares' minimum-norm solution
        var ridge = Math.Max(1e-10 * (trace / p), double.Epsilon);
        var r = (double[,])g.Clone();
        for (var a = 0; a < p; a++) r[a, a] += ridge;
        return r;
    }


    private static double[] Solve(double[,] l, double[] b)
    {
        var p = b.Length;
        var y = new double[p];
        for (var i = 0; i < p; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        var x = new double[p];
        for (var i = p - 1; i >= 0; i--)
        {
            var s = y[i];
            for (var k = i + 1; k < p; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }
}
