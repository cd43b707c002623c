using Edge.Testing;

namespace Edge.Inference.Tests;

/// <summary>IO binding against a real ONNX Runtime: results, runtime-allocated outputs, errors, and zero managed allocation.</summary>
public sealed class BindingTests
{
    [Fact]
    public void BoundRun_WritesTheBoundOutput_AndSeesInputChanges()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        using var binding = session.CreateBinding();
        binding.BindInput("a", a);
        binding.BindInput("b", b);
        binding.BindOutput("sum", sum);

        new[] { 1f, 2f, 3f, 4f }.CopyTo(a.Span);
        new[] { 10f, 20f, 30f, 40f }.CopyTo(b.Span);
        binding.Run();
        Assert.Equal([11f, 22f, 33f, 44f], sum.ToArray());

        a.Span.Fill(0.5f);
        binding.Run();
        Assert.Equal([10.5f, 20.5f, 30.5f, 40.5f], sum.ToArray());
    }

    [Fact]
    public void SteadyStateBoundRun_AllocatesNoManagedBytes()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), new InferenceSessionOptions { IntraOpThreads = 1 });
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        using var binding = session.CreateBinding();
        binding.BindInput("a", a);
        binding.BindInput("b", b);
        binding.BindOutput("sum", sum);
        a.Span.Fill(1f);
        b.Span.Fill(2f);
        for (var i = 0; i < 20; i++)
        {
            binding.Run();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            binding.Run();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal([3f, 3f, 3f, 3f], sum.ToArray());
    }

    [Fact]
    public void OutputBoundToCpu_IsAllocatedByTheRuntimeAndReadBack()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("dynamic-relu.onnx"));
        var input = session.Inputs[0];
        using var x = Tensor.Wrap<float>(new[] { -1f, 2f, -3f, 4f, 5f, -6f }, [2, 3]);
        using var binding = session.CreateBinding();
        binding.BindInput(input.Name, x);
        binding.BindOutputToCpu(session.Outputs[0].Name);
        binding.Run();

        using var outputs = binding.GetOutputs();
        var y = outputs[session.Outputs[0].Name];
        Assert.Equal([2L, 3L], y.Shape.ToArray());
        Assert.Equal([0f, 2f, 0f, 4f, 5f, 0f], y.As<float>().ToArray());
    }

    [Fact]
    public void Mistakes_AreNamed()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var wrongShape = new Tensor<float>([1, 5]);
        using var a = new Tensor<float>([1, 4]);
        using var binding = session.CreateBinding();

        var unknown = Assert.Throws<OnnxRuntimeException>(() => binding.BindInput("c", a));
        Assert.Contains("no input 'c'; its inputs are a: Float[1,4], b: Float[1,4]", unknown.Message);
        var shape = Assert.Throws<OnnxRuntimeException>(() => binding.BindInput("a", wrongShape));
        Assert.Contains("Input 'a' expects shape [1,4]; the tensor given has shape [1,5]", shape.Message);

        binding.BindInput("a", a);
        var unbound = Assert.Throws<OnnxRuntimeException>(() => binding.Run());
        Assert.Contains("At least one output should be requested", unbound.Message);

        binding.Dispose();
        Assert.Throws<ObjectDisposedException>(() => binding.Run());
    }
}
