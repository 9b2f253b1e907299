using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests;

public class TensorArenaTests
{
    private static (float Loss, float[] Grad) Step(Tensor x, Tensor w, Tensor b)
    {
        var h = Tensor.Linear(x, w, b, Activation.Silu);
        var loss = Losses.MseLoss(Tensor.Linear(h, w, b, Activation.Silu, residual: h).Mean(1).Exp(), Tensor.Zeros([x.Shape[0]]));
        loss.Backward();
        return (loss.Item(), (float[])w.Grad!.Clone());
    }

    [Fact]
    public void Steps_InAnArena_GiveTheSameValues_AndAllocateOnTheFirstStepOnly()
    {
        var rng = new System.Random(1);
        var (x, w, b) = (GradCheck.Random([16, 8], rng, requiresGrad: false), GradCheck.Random([8, 8], rng), GradCheck.Random([8], rng));
        var (loss, grad) = Step(x, w, b);
        w.ZeroGrad();
        b.ZeroGrad();

        var arena = new TensorArena();
        long capacity = 0;
        for (int step = 0; step < 3; step++)
        {
            using (arena.Use())
            {
                Assert.Same(arena, TensorArena.Current);
                var (l, g) = Step(x, w, b);
                Assert.Equal(loss, l);
                Assert.Equal(grad, g);
                Assert.NotNull(w.Grad);                    // leaf gradients stay on the heap
                w.ZeroGrad();
                b.ZeroGrad();
                arena.Reset();
            }

            Assert.Null(TensorArena.Current);
            if (step == 0) capacity = arena.CapacityBytes;
            Assert.Equal(capacity, arena.CapacityBytes);   // later steps reuse the first step's buffers
        }

        Assert.True(capacity > 0);
    }

    [Fact]
    public void Reset_HandsBuffersOut_Again()
    {
        var arena = new TensorArena();
        var a = arena.Rent(10, clear: false);
        a[3] = 7f;
        var b = arena.Rent(10, clear: false);
        Assert.NotSame(a, b);                              // a is still rented
        arena.Reset();
        var again = new[] { arena.Rent(10, clear: true), arena.Rent(10, clear: true) };
        Assert.Contains(again, x => ReferenceEquals(x, a));
        Assert.Contains(again, x => ReferenceEquals(x, b));
        Assert.All(a, v => Assert.Equal(0f, v));
        Assert.Equal(2 * 10 * sizeof(float), arena.CapacityBytes);
        Assert.Empty(arena.Rent(0, clear: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Rent(-1, clear: false));
    }

    [Fact]
    public void Use_NestsAndRestores()
    {
        var outer = new TensorArena();
        var inner = new TensorArena();
        using (outer.Use())
        {
            using (inner.Use()) Assert.Same(inner, TensorArena.Current);
            Assert.Same(outer, TensorArena.Current);
        }

        Assert.Null(TensorArena.Current);
    }

    [Fact]
    public void ZeroGrad_InPlace_KeepsTheBuffers()
    {
        var p = Tensor.Ones([3], requiresGrad: true);
        var adam = new Adam([p]);
        (p * p).Sum().Backward();
        var buffer = p.Grad!;
        adam.ZeroGrad(setToNone: false);
        Assert.Same(buffer, p.Grad);
        Assert.All(buffer, v => Assert.Equal(0f, v));
        adam.ZeroGrad();
        Assert.Null(p.Grad);
    }
}
