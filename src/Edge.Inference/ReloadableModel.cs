namespace Edge.Inference;

/// <summary>
/// The plugin's current <see cref="OnnxModel"/>, which a new model version can replace while
/// frames keep flowing. A frame takes a <see cref="ModelLease"/>, runs on the model it holds and
/// reads the result, then disposes the lease. <see cref="Swap"/> makes a fully loaded model current
/// for the next lease; the old one is disposed when the last lease on it ends. So no frame waits or
/// fails because of a swap, and none runs on a half-loaded model.
/// </summary>
public sealed class ReloadableModel : IDisposable
{
    private readonly Lock _gate = new();
    private Slot _current;
    private int _swaps;

    /// <summary>Starts with <paramref name="initial"/> as the current model; this object then owns it.</summary>
    public ReloadableModel(OnnxModel initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = new Slot(initial);
    }

    /// <summary>The current model's model file.</summary>
    public string Source
    {
        get
        {
            lock (_gate)
            {
                return _current.Model.Source;
            }
        }
    }

    /// <summary>How many times a new model has been swapped in.</summary>
    public int Swaps => Volatile.Read(ref _swaps);

    /// <summary>Takes the current model for one frame. Dispose the lease once the result has been read.</summary>
    /// <exception cref="ObjectDisposedException">The model has been disposed.</exception>
    public ModelLease Acquire()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_current.Released, this);
            _current.Leases++;
            return new ModelLease(this, _current);
        }
    }

    /// <summary>
    /// Makes <paramref name="next"/> (already loaded) the model later leases get. The previous model
    /// is disposed now if no frame holds it, otherwise when its last lease ends.
    /// </summary>
    public void Swap(OnnxModel next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Slot old;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_current.Released, this);
            old = _current;
            _current = new Slot(next);
            _swaps++;
        }

        Release(old, owner: true);
    }

    /// <summary>Disposes the current model once frames holding it are done.</summary>
    public void Dispose()
    {
        Slot current;
        lock (_gate)
        {
            if (_current.Released)
            {
                return;
            }

            current = _current;
        }

        Release(current, owner: true);
    }

    internal void Release(Slot slot, bool owner)
    {
        bool dispose;
        lock (_gate)
        {
            if (owner)
            {
                slot.Released = true;
            }
            else
            {
                slot.Leases--;
            }

            dispose = slot.Released && slot.Leases == 0 && !slot.Disposed;
            slot.Disposed |= dispose;
        }

        if (dispose)
        {
            slot.Model.Dispose();
        }
    }

    internal sealed class Slot(OnnxModel model)
    {
        public OnnxModel Model { get; } = model;

        public int Leases { get; set; }

        public bool Released { get; set; }

        public bool Disposed { get; set; }
    }
}

/// <summary>One frame's hold on a model: the model stays alive, whatever swaps happen, until this is disposed.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly ReloadableModel _owner;
    private readonly ReloadableModel.Slot _slot;
    private int _disposed;

    internal ModelLease(ReloadableModel owner, ReloadableModel.Slot slot)
    {
        _owner = owner;
        _slot = slot;
    }

    /// <summary>The model to run this frame on.</summary>
    public OnnxModel Model => _slot.Model;

    /// <summary>Ends the hold; the last lease on a replaced model disposes it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Release(_slot, owner: false);
        }
    }
}
