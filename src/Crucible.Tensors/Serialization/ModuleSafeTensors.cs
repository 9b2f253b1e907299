using Crucible.Tensors.Nn;

namespace Crucible.Tensors.Serialization;

/// <summary>
/// A module's state dict to and from a safetensors file, with PyTorch's dotted names, so
/// <c>safetensors.torch.load_file</c> + <c>model.load_state_dict</c> open Crucible's weights and vice versa.
/// </summary>
public static class ModuleSafeTensors
{
    /// <summary>Writes <paramref name="module"/>'s state dict (F32) to <paramref name="path"/> atomically.</summary>
    public static void SaveSafeTensors(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        SafeTensors.Save(path, ToEntries(module.StateDict()), metadata);
    }

    /// <summary>The bytes <see cref="SaveSafeTensors"/> would write.</summary>
    public static byte[] SerializeSafeTensors(this Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        return SafeTensors.Serialize(ToEntries(module.StateDict()), metadata);
    }

    /// <summary>Loads a safetensors file into <paramref name="module"/> through <see cref="Module.LoadStateDict"/>.</summary>
    public static LoadStateDictResult LoadSafeTensors(this Module module, SafeTensorsFile file, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        var dict = new StateDict();
        foreach (var name in file.Names) dict.Add(name, new Tensor(file.GetFloat32(name), file.GetShape(name)));
        return module.LoadStateDict(dict, strict);
    }

    private static List<(string Name, int[] Shape, float[] Data)> ToEntries(StateDict state) =>
        [.. state.Select(kv => (kv.Key, kv.Value.Shape, kv.Value.Data))];
}
