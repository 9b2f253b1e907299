using System.Text.Json;
using Crucible.Tensors.Nn;

namespace Crucible.Tensors.Tests.Nn;

/// <summary>Reads the PyTorch golden fixtures in TestData/reference.json (see make_reference.py).</summary>
internal static class Reference
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Nn", "TestData", "reference.json"))));

    public static JsonElement Case(string name) => Document.Value.RootElement.GetProperty("cases").GetProperty(name);

    public static Tensor Tensor(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return new Tensor(data, shape);
    }

    public static Tensor Tensor(JsonElement c, string property) => Tensor(c.GetProperty(property));

    public static StateDict State(JsonElement c)
    {
        var dict = new StateDict();
        foreach (var p in c.GetProperty("state").EnumerateObject()) dict.Add(p.Name, Tensor(p.Value));
        return dict;
    }

    /// <summary>PyTorch's state-dict keys and shapes, in order, as "name (a, b)" strings.</summary>
    public static string[] Keys(JsonElement c) => c.GetProperty("keys").EnumerateArray()
        .Select(k => $"{k[0].GetString()} {Crucible.Tensors.Tensor.FormatShape(k[1].EnumerateArray().Select(v => v.GetInt32()).ToArray())}")
        .ToArray();

    public static string[] Keys(Module m) => m.StateDict().Select(kv => $"{kv.Key} {Crucible.Tensors.Tensor.FormatShape(kv.Value.Shape)}").ToArray();

    public static bool[,] BoolMatrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetBoolean()).ToArray()).ToArray();
        var m = new bool[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        }

        return m;
    }

    public static void Close(string label, Tensor expected, Tensor actual, double atol = 1e-5, double rtol = 1e-5)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        GradCheck.Close(label, expected.Data, actual.Data, rtol, atol);
    }
}
