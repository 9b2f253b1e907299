namespace Crucible.Evaluation.Utility;

/// <summary>
/// A multi-output least-squares forecaster with intercept (scikit-learn's <c>LinearRegression</c>), fitted in double
/// precision by the normal equations of the centred design: (X_cᵀX_c) B = X_cᵀY_c, solved by Cholesky; intercept
/// = ȳ − x̄ᵀB. If the Gram matrix is not positive definite (a constant or collinear feature, e.g. a collapsed
/// generator), a ridge of 1e-10 times its mean diagonal is added so the fit still exists.
/// </summary>
internal sealed class LinearForecaster
{
    private LinearForecaster(double[,] coefficients, double[] intercept)
    {
        Coefficients = coefficients;
        Intercept = intercept;
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
        int Col(int k) => k < p ? k : -1 - (k - p);
        var mean = new double[m];
        for (var k = 0; k < m; k++) mean[k] = design.Sum(Col(k)) / n;
        var gram = new double[p, m]; // centred cross products of every feature with every feature and target
        Parallel.For(0, p, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, a =>
        {
            for (var b = a; b < m; b++) gram[a, b] = design.Dot(Col(a), Col(b)) - (n * mean[a] * mean[b]);
        });
        var g = new double[p, p];
        for (var a = 0; a < p; a++)
        {
            for (var b = a; b < p; b++) g[a, b] = g[b, a] = gram[a, b];
        }
        var l = Cholesky(g) ?? Cholesky(Ridged(g)) ?? throw new InvalidOperationException("the forecaster's Gram matrix could not be factored");
        var coef = new double[p, d];
        var rhs = new double[p];
        for (var j = 0; j < d; j++)
        {
            for (var a = 0; a < p; a++) rhs[a] = gram[a, p + j];
            var x = Solve(l, rhs);
            for (var a = 0; a < p; a++) coef[a, j] = x[a];
        }
        var intercept = new double[d];
        for (var j = 0; j < d; j++)
        {
            var s = mean[p + j];
            for (var a = 0; a < p; a++) s -= mean[a] * coef[a, j];
            intercept[j] = s;
        }
        return new LinearForecaster(coef, intercept);
    }

    /// <summary>Predictions (rows, targets) row-major for every sample of <paramref name="design"/>.</summary>
    public double[] Predict(LaggedDesign design)
    {
        int p = design.Features, d = design.Series, n = design.Rows;
        var pred = new double[n * d];
        for (var r = 0; r < n; r++) Intercept.CopyTo(pred, r * d);
        for (var a = 0; a < p; a++) AddContribution(design, a, pred, 1.0);
        return pred;
    }

    /// <summary>pred[r, j] += sign · x[r, a] · B[a, j] for feature column a.</summary>
    public void AddContribution(LaggedDesign design, int feature, double[] pred, double sign)
    {
        var d = design.Series;
        var at = 0;
        for (var q = 0; q < design.PathCount; q++)
        {
            var col = design.Column(q, feature);
            for (var r = 0; r < col.Length; r++)
            {
                var x = sign * col[r];
                var row = (at + r) * d;
                for (var j = 0; j < d; j++) pred[row + j] += x * Coefficients[feature, j];
            }
            at += col.Length;
        }
    }

    private static double[,] Ridged(double[,] g)
    {
        var p = g.GetLength(0);
        double trace = 0;
        for (var a = 0; a < p; a++) trace += g[a, a];
        var ridge = 1e-10 * Math.Max(trace / p, double.Epsilon);
        var r = (double[,])g.Clone();
        for (var a = 0; a < p; a++) r[a, a] += ridge;
        return r;
    }

    /// <summary>Lower-triangular L with L·Lᵀ = A, or null when A is not (numerically) positive definite.</summary>
    private static double[,]? Cholesky(double[,] a)
    {
        var p = a.GetLength(0);
        var l = new double[p, p];
        double maxDiag = 0;
        for (var i = 0; i < p; i++) maxDiag = Math.Max(maxDiag, a[i, i]);
        for (var j = 0; j < p; j++)
        {
            var s = a[j, j];
            for (var k = 0; k < j; k++) s -= l[j, k] * l[j, k];
            if (!(s > 1e-13 * maxDiag)) return null;
            var djj = Math.Sqrt(s);
            l[j, j] = djj;
            for (var i = j + 1; i < p; i++)
            {
                var t = a[i, j];
                for (var k = 0; k < j; k++) t -= l[i, k] * l[j, k];
                l[i, j] = t / djj;
            }
        }
        return l;
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
