using System.Globalization;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

// Fit y = sin(3x) on [-1, 1] with a 1-32-32-1 SiLU network, trained by Adam on Crucible's own engine.
var rng = new Philox(seed: 42);
var xs = new float[256];
rng.FillUniform(xs);
for (int i = 0; i < xs.Length; i++) xs[i] = (2 * xs[i]) - 1;
var x = new Tensor(xs, [256, 1]);
var y = new Tensor([.. xs.Select(v => MathF.Sin(3 * v))], [256, 1]);

var model = new Sequential(new Linear(1, 32, rng), new SiLU(), new Linear(32, 32, rng), new SiLU(), new Linear(32, 1, rng));
var optimizer = new Adam(model.Parameters(), lr: 1e-2);
float loss = float.NaN;
for (int step = 1; step <= 500; step++)
{
    var l = Losses.MseLoss(model.Forward(x), y);
    optimizer.ZeroGrad();
    l.Backward();
    optimizer.Step();
    loss = l.Item();
    if (step % 100 == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: mse {loss:F5}"));
}

var path = args.Length > 0 ? args[0] : "mlp.safetensors";
model.SaveSafeTensors(path);   // opens in PyTorch: safetensors.torch.load_file(path)
Console.WriteLine($"{model.ParameterCount()} parameters saved to {path}");
return loss < 1e-3 ? 0 : 1;
