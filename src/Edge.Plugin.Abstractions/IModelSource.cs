namespace Edge.Plugin;

/// <summary>Turns a model reference into a verified local file, fetching it first when it is remote.</summary>
public interface IModelSource
{
    /// <summary>The schemes this source serves, such as <c>file</c>, <c>s3</c>, <c>https</c>.</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>Returns the path of a local, verified copy of the model.</summary>
    /// <exception cref="FileNotFoundException">The model does not exist.</exception>
    ValueTask<string> GetLocalPathAsync(ModelReference reference, CancellationToken cancellationToken);
}
