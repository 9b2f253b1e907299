namespace Crucible.Stress.Generators;

/// <summary>
/// Nelder–Mead simplex minimisation (Lagarias et al. 1998 coefficients: reflection 1, expansion 2, contraction ½,
/// shrink ½), restarted from the best point until a restart no longer improves by more than the tolerance.
/// Deterministic: no randomness, a fixed initial simplex.
/// </summary>
internal static class NelderMead
{
    public static (double[] X, double F) Minimize(Func<double[], double> f, double[] x0, double step = 0.5, double tolerance = 1e-10,
        int maxEvaluations = 20000)
    {
        var best = x0;
        var fBest = f(x0);
        var evaluations = 1;
        for (var restart = 0; restart < 20 && evaluations < maxEvaluations; restart++)
        {
            var (x, fx, used) = Run(f, best, step, tolerance, maxEvaluations - evaluations);
            evaluations += used;
            var improved = fBest - fx;
            if (fx < fBest)
            {
                best = x;
                fBest = fx;
            }

            if (improved <= tolerance * (1 + Math.Abs(fBest))) break;
        }

        return (best, fBest);
    }

    private static (double[] X, double F, int Evaluations) Run(Func<double[], double> f, double[] x0, double step, double tolerance, int budget)
    {
        var n = x0.Length;
        var simplex = new double[n + 1][];
        var values = new double[n + 1];
        simplex[0] = (double[])x0.Clone();
        values[0] = f(simplex[0]);
        for (var i = 0; i < n; i++)
        {
            var v = (double[])x0.Clone();
            v[i] += step;
            simplex[i + 1] = v;
            values[i + 1] = f(v);
        }

        var evaluations = n + 1;
        var order = new int[n + 1];
        var centroid = new double[n];
        while (evaluations < budget)
        {
            for (var i = 0; i <= n; i++) order[i] = i;
            Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
            int lo = order[0], hi = order[n], second = order[n - 1];
            var spread = Math.Abs(values[hi] - values[lo]);
            if (spread <= tolerance * (Math.Abs(values[lo]) + 1e-300) && Size(simplex, lo) < 1e-9) break;
            if (spread <= tolerance * 1e-3 * (Math.Abs(values[lo]) + 1)) break;
            Array.Clear(centroid);
            for (var i = 0; i <= n; i++)
            {
                if (i == hi) continue;
                for (var j = 0; j < n; j++) centroid[j] += simplex[i][j] / n;
            }

            var reflected = Combine(centroid, simplex[hi], 1);
            var fr = f(reflected);
            evaluations++;
            if (fr < values[lo])
            {
                var expanded = Combine(centroid, simplex[hi], 2);
                var fe = f(expanded);
                evaluations++;
                (simplex[hi], values[hi]) = fe < fr ? (expanded, fe) : (reflected, fr);
            }
            else if (fr < values[second])
            {
                (simplex[hi], values[hi]) = (reflected, fr);
            }
            else
            {
                var outside = fr < values[hi];
                var contracted = Combine(centroid, simplex[hi], outside ? 0.5 : -0.5);
                var fc = f(contracted);
                evaluations++;
                if (fc < (outside ? fr : values[hi]))
                {
                    (simplex[hi], values[hi]) = (contracted, fc);
                }
                else
                {
                    for (var i = 0; i <= n; i++)
                    {
                        if (i == lo) continue;
                        for (var j = 0; j < n; j++) simplex[i][j] = simplex[lo][j] + (0.5 * (simplex[i][j] - simplex[lo][j]));
                        values[i] = f(simplex[i]);
                        evaluations++;
                    }
                }
            }
        }

        var best = 0;
        for (var i = 1; i <= n; i++)
        {
            if (values[i] < values[best]) best = i;
        }

        return (simplex[best], values[best], evaluations);
    }

    // centroid + coefficient·(centroid − worst)
    private static double[] Combine(double[] centroid, double[] worst, double coefficient)
    {
        var x = new double[centroid.Length];
        for (var j = 0; j < x.Length; j++) x[j] = centroid[j] + (coefficient * (centroid[j] - worst[j]));
        return x;
    }

    private static double Size(double[][] simplex, int lo)
    {
        double size = 0;
        foreach (var v in simplex)
        {
            for (var j = 0; j < v.Length; j++) size = Math.Max(size, Math.Abs(v[j] - simplex[lo][j]));
        }

        return size;
    }
}
