using Crucible.Data;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Reverse;

/// <summary>
/// The portfolio's loss over a window, −Σ_t ln(1 + u_t) with u_t = Σ_i w_i (e^{r_{t,i}} − 1) (METRICS.md's P&amp;L), and
/// its gradient ∂/∂r_{t,i} = −w_i e^{r_{t,i}} / (1 + u_t). NaN (and a zero gradient) when a step wipes the portfolio out.
/// </summary>
public sealed class PortfolioLossObjective(double[] weights) : IScenarioObjective
{
    /// <inheritdoc/>
    public double Evaluate(ReadOnlySpan<double> window, int series, Span<double> gradient)
    {
        if (series != weights.Length) throw new ArgumentException("one weight per series is needed", nameof(series));
        if (window.Length % series != 0 || gradient.Length != window.Length) throw new ArgumentException("window and gradient must be W × D");
        double loss = 0;
        for (var t = 0; t < window.Length / series; t++)
        {
            var step = window.Slice(t * series, series);
            var u = PortfolioPnl.SimpleReturn(step, weights);
            if (!(u > -1))
            {
                gradient.Clear();
                return double.NaN;
            }

            loss -= Numeric.Log1P(u);
            for (var i = 0; i < series; i++) gradient[(t * series) + i] = -weights[i] * Math.Exp(step[i]) / (1 + u);
        }

        return loss;
    }
}
