package io.innerq.serving;

import io.innerq.cache.CapacityPlanner;
import io.innerq.cache.InnerqConfig;
import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.chat.ChatTemplate;
import io.innerq.engine.ContextLengthExceededException;
import io.innerq.engine.FinishReason;
import io.innerq.engine.Generation;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.model.LlamaConfig;
import io.innerq.model.LlamaForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One model served to many callers: admission, bounded concurrency, a KV memory budget and a time limit around the
 * domain's {@link Generator}.
 *
 * <h2>Concurrency</h2>
 * The engine has {@code concurrency} <em>slots</em>; the free slots are a queue (the bulkhead): a request waits at most
 * {@code queueTimeout} for one and is then turned away ({@link EngineBusyException}). On the CPU (and the scalar
 * backend) every admitted generation runs in one {@link BatchScheduler} on one backend of all {@code threads}:
 * continuous batching, one forward step for all of them, each weight read once per step; a generation joins after it
 * is admitted and leaves at its end. With the Vulkan backend each slot owns a backend of
 * {@code threads / concurrency} CPU threads beside the shared device, and runs its generation on the caller's thread.
 *
 * <h2>Memory</h2>
 * Every generation has its own KV cache, allocated for its prompt plus its token limit. {@link #prepare} plans its
 * bytes with {@link CapacityPlanner} ({@link #kvBytes}); {@link #admit} charges them against the budget and
 * {@link Admission#close()} credits them back when the generation ends, however it ends. So the generations of a
 * batch hold at most the budget together. A request that could never fit is refused by {@link #prepare}; one that does
 * not fit next to the running ones is refused by {@link #admit} (both {@link KvBudgetExceededException}).
 *
 * <h2>GPU and fallback</h2>
 * With the Vulkan backend every slot runs its forward pass on one shared device (the weights uploaded once) and has
 * the CPU's forward pass beside it. A generation whose GPU work fails before its first token is sent runs again on the CPU
 * (nothing was sent, so nothing is duplicated); a {@link GpuCircuit} (a circuit breaker) counts those failures and,
 * once open, sends generations straight to the CPU until a trial on the GPU succeeds. A failure after text was
 * sent ends that generation with the error.
 *
 * <h2>Cancellation and time limit</h2>
 * A {@link GenerationListener} that returns false, or a stream whose subscriber cancels, stops the generation at
 * its next token and its cache is closed at once. Past {@code generationTimeout} the engine stops the generation the
 * same way and reports it as ended by length. The listener is called on the thread that runs the generation
 * ({@link #run}), also in a batch.
 */
public final class InnerqEngine implements AutoCloseable {

    private final LlamaModel model;
    private final String modelId;
    private final EngineSettings settings;
    private final CacheGeometry geometry;
    private final List<Slot> slots;
    private final BlockingQueue<Slot> freeSlots;
    private final KvBudget budget;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger(); // requests waiting for a slot
    private final Scheduler streams;
    private final EngineMetrics metrics;
    private final Backend batchBackend;       // null with a GPU: the slots have their own
    private final Generator batchGenerator;   // null with a GPU
    private final BatchScheduler scheduler;   // null with a GPU

    /** A place for one running generation; {@code ports} is null where generations run in the batch. */
    private record Slot(int index, SlotPorts ports) {
    }

    /** A GPU slot's ports: the device's forward pass, and the CPU's as its fallback (or null). */
    private record SlotPorts(Backend backend, TrackingForward forward, Generator generator,
                             TrackingForward fallbackForward, Generator fallback) {
    }

    private static final Logger log = LoggerFactory.getLogger(InnerqEngine.class);

    private final GpuRuntime gpu;           // null without a GPU
    private final GpuCircuit gpuCircuit;

    private InnerqEngine(LlamaModel model, EngineSettings settings, MeterRegistry meters, GpuRuntime gpu,
                         GpuCircuit gpuCircuit) {
        this.gpu = gpu;
        this.gpuCircuit = gpuCircuit;
        this.model = model;
        this.settings = settings;
        String file = model.fileName();
        this.modelId = file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
        LlamaConfig c = model.config();
        this.geometry = new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
        try {
            new CapacityPlanner(geometry, settings.defaultKvMode());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("spring.ai.innerq.kv.mode=%s cannot serve %s: %s".formatted(
                    settings.defaultKvMode().name(), modelId, e.getMessage()), e);
        }
        this.budget = new KvBudget(settings.kvBudgetBytes());
        this.slots = new ArrayList<>();
        this.freeSlots = new ArrayBlockingQueue<>(settings.concurrency());
        Backend batched = null;
        try {
            if (gpu == null) {
                batched = settings.backend() == BackendKind.SCALAR ? new Backend.Scalar()
                        : Backend.cpu(settings.totalThreads());
            }
            for (int i = 0; i < settings.concurrency(); i++) {
                var slot = new Slot(i, gpu == null ? null : slotPorts(model, gpu, settings));
                slots.add(slot);
                freeSlots.add(slot);
            }
        } catch (RuntimeException e) {
            closeSlots();
            if (batched != null) {
                batched.close();
            }
            throw e;
        }
        this.batchBackend = batched;
        this.streams = Schedulers.newBoundedElastic(Math.max(4, 4 * settings.concurrency()), 1024,
                "innerq-generation", 60, true);
        this.metrics = new EngineMetrics(meters, this, c.headDim());
        if (batched != null) {
            ForwardPort forward = batched.forward(model);
            this.batchGenerator = new Generator(model, forward);
            this.scheduler = new BatchScheduler(forward.batch(settings.concurrency() + LlamaForward.PREFILL_BATCH),
                    metrics);
        } else {
            this.batchGenerator = null;
            this.scheduler = null;
        }
    }

    private static SlotPorts slotPorts(LlamaModel model, GpuRuntime gpu, EngineSettings settings) {
        Backend backend = VulkanBackend.shared(gpu, settings.threadsPerSlot());
        try {
            var forward = new TrackingForward(backend.forward(model));
            var fallbackPort = backend.fallbackForward(model);
            var fallback = fallbackPort == null ? null : new TrackingForward(fallbackPort);
            return new SlotPorts(backend, forward, new Generator(model, forward), fallback,
                    fallback == null ? null : new Generator(model, fallback));
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    private void closeSlots() {
        for (Slot s : slots) {
            if (s.ports() != null) {
                s.ports().backend().close();
            }
        }
    }

    /** An engine for {@code model} run as {@code settings} say; {@link Opener#open()} loads it. */
    public static Opener opener(ModelSource model, EngineSettings settings) {
        return new Opener(model, settings);
    }

    /** What an engine is opened with beyond its model and settings; every part has a default. */
    public static final class Opener {
        private final ModelSource source;
        private final EngineSettings settings;
        private MeterRegistry meters = new SimpleMeterRegistry();
        private GpuRuntime gpu;
        private GpuCircuit gpuCircuit = GpuCircuit.ALWAYS;

        private Opener(ModelSource source, EngineSettings settings) {
            this.source = source;
            this.settings = settings;
        }

        /** Where the engine's meters go (default: a registry of its own). */
        public Opener meters(MeterRegistry meters) {
            this.meters = meters;
            return this;
        }

        /**
         * The device to run on, for {@link BackendKind#AUTO} and {@link BackendKind#VULKAN}, instead of the one the
         * engine would open; the engine closes it.
         */
        public Opener gpu(GpuRuntime gpu) {
            this.gpu = gpu;
            return this;
        }

        /** When generations try the GPU (default {@link GpuCircuit#ALWAYS}). */
        public Opener gpuCircuit(GpuCircuit gpuCircuit) {
            this.gpuCircuit = gpuCircuit;
            return this;
        }

        /** Loads the model, opens the GPU the backend setting asks for (if any), and one backend per slot. */
        public InnerqEngine open() throws IOException {
            GpuRuntime device = switch (settings.backend()) {
                case CPU, SCALAR -> null;
                case AUTO, VULKAN -> gpu != null ? gpu : GpuSupport.open(settings.backend());
            };
            if (gpu != null && device != gpu) {
                gpu.close();
            }
            LlamaModel model;
            try {
                model = source.load(settings.weightCheck());
            } catch (IOException | RuntimeException e) {
                if (device != null) {
                    device.close();
                }
                throw e;
            }
            try {
                return new InnerqEngine(model, settings, meters, device, gpuCircuit);
            } catch (RuntimeException e) {
                model.close();
                if (device != null) {
                    device.close();
                }
                throw e;
            }
        }
    }

    public LlamaModel model() {
        return model;
    }

    /** The model's name in the API: its file name without {@code .gguf}. */
    public String modelId() {
        return modelId;
    }

    /** Whether {@code name} names this engine's model: its id, its file name, or its {@code general.name}. */
    public boolean serves(String name) {
        return name.equals(modelId) || name.equals(model.fileName()) || name.equals(model.name());
    }

    public EngineSettings settings() {
        return settings;
    }

    /** One line for logs: the model, the backend, the slots and the KV cache. */
    public String describe() {
        int slots = settings.concurrency();
        String kv = "KV cache %s within %s".formatted(settings.defaultKvMode().name(), Bytes.format(budget.budget()));
        if (scheduler != null) {
            int threads = settings.totalThreads();
            return "%s (%s), backend %s, a batch of up to %d generation%s on %d thread%s (steps of up to %d tokens), %s"
                    .formatted(modelId, model.name(), backendName(), slots, slots == 1 ? "" : "s", threads,
                            threads == 1 ? "" : "s", scheduler.maxTokens(), kv);
        }
        int threads = settings.threadsPerSlot();
        return "%s (%s), backend %s, %d slot%s of %d thread%s, %s".formatted(modelId, model.name(), backendName(),
                slots, slots == 1 ? "" : "s", threads, threads == 1 ? "" : "s", kv);
    }

    /** The backend: {@code cpu}, {@code scalar} or {@code vulkan}, and the ports' names, e.g. {@code cpu (vector-avx2x2)}. */
    public String backendName() {
        if (scheduler != null) {
            return "%s (%s)".formatted(batchBackend.name(), batchGenerator.forward().name());
        }
        SlotPorts s = slots.getFirst().ports();
        return "%s (%s, %s)".formatted(s.backend().name(), s.forward().name(), gpu.deviceName());
    }

    /** The GPU in use, or null. */
    public String gpuDevice() {
        return gpu == null ? null : gpu.deviceName();
    }

    /** The GPU circuit's state: CLOSED (GPU in use), OPEN (generations go to the CPU), HALF_OPEN (trying the GPU). */
    public String gpuCircuitState() {
        return gpuCircuit.state();
    }

    /** Generations run on the CPU instead of the GPU so far. */
    public long gpuFallbacks() {
        return (long) metrics.fallbackCount();
    }

    /** Generation slots free now. */
    public int freeSlots() {
        return freeSlots.size();
    }

    public int activeGenerations() {
        return active.get();
    }

    /** Requests waiting for a generation slot, or admitted and waiting for their first step in the batch. */
    public int queueLength() {
        BatchScheduler s = scheduler;
        return waiting.get() + (s == null ? 0 : s.joining());
    }

    public long kvBytesInUse() {
        BatchScheduler batch = scheduler;
        if (batch != null) {
            return batch.kvBytesInUse();
        }
        long sum = 0;
        for (Slot slot : slots) {
            SlotPorts s = slot.ports();
            if (s != null) {
                sum += s.forward().bytesInUse() + (s.fallbackForward() == null ? 0 : s.fallbackForward().bytesInUse());
            }
        }
        return sum;
    }

    public long kvBytesReserved() {
        return budget.reserved();
    }

    public long kvBudgetBytes() {
        return budget.budget();
    }

    /**
     * Bytes a generation is charged: what its cache allocates up front for {@code capacity} tokens
     * ({@link CapacityPlanner#bytesReserved}) plus, for modes that keep the prompt in fp32 while it runs, that
     * buffer, which grows by doubling to at most twice the prompt.
     */
    public long kvBytes(KvMode mode, int promptTokens, int capacity) {
        var planner = planner(mode);
        long prefill = switch (mode) {
            case KvMode.Fp32 m -> 0;
            case KvMode.Fp16 m -> 0;
            case KvMode.Q8 m -> 0;
            case KvMode.Kivi m -> planner.bytesDuringPrefill(Math.min(capacity, 2 * promptTokens));
            case InnerqConfig m -> planner.bytesDuringPrefill(Math.min(capacity, 2 * promptTokens));
        };
        return planner.bytesReserved(capacity) + prefill;
    }

    private CapacityPlanner planner(KvMode mode) {
        return new CapacityPlanner(geometry, mode);
    }

    /**
     * A conversation, written with the model's chat template (whose stop strings are added to the options'), checked
     * as {@link #prepare} checks a request.
     *
     * @param options the caller's options; unset values take the defaults, the KV cache mode this engine's
     */
    public PreparedGeneration prepareChat(List<ChatMessage> messages, GenerationOptions options) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a chat request needs at least one message");
        }
        ChatTemplate template = model.chatTemplate();
        var stops = new LinkedHashSet<>(template.stopStrings());
        if (options.stop() != null) {
            stops.addAll(options.stop());
        }
        return prepare(new GenerationRequest(template.render(messages, true), options.tokenLimit(),
                options.sampling(), List.copyOf(stops), !template.rendersBos(), true, kvMode(options)));
    }

    /** A plain-text completion of {@code prompt} (BOS added, no template), checked as {@link #prepare} checks it. */
    public PreparedGeneration prepareCompletion(String prompt, GenerationOptions options) {
        return prepare(new GenerationRequest(prompt, options.tokenLimit(), options.sampling(),
                options.stop() == null ? List.of() : options.stop(), true, true, kvMode(options)));
    }

    private KvMode kvMode(GenerationOptions options) {
        return options.kvMode() != null ? options.kvMode() : settings.defaultKvMode();
    }

    /**
     * Checks a request against the context and the budget, and fixes its token limit: a request for
     * {@link GenerationRequest#UNTIL_CONTEXT_ENDS} gets as many tokens as the context and the whole budget allow.
     *
     * @throws ContextLengthExceededException when the prompt plus the tokens asked for exceed the context
     * @throws KvBudgetExceededException      when its cache could never fit in the budget
     */
    public PreparedGeneration prepare(GenerationRequest request) {
        int[] prompt = model.tokenizer().encode(request.prompt(), request.addBos(), request.parseSpecial());
        int promptTokens = prompt.length;
        if (promptTokens == 0) {
            throw new IllegalArgumentException("the prompt is empty and the model has no BOS token to start from");
        }
        int context = model.config().contextLength();
        KvMode mode = request.kvMode();
        planner(mode); // a mode that cannot serve this head_dim fails here, with its reason
        if (promptTokens >= context) {
            throw new ContextLengthExceededException(promptTokens, 0, context);
        }
        int maxTokens = request.maxTokens();
        if (maxTokens == GenerationRequest.UNTIL_CONTEXT_ENDS) {
            int fits = largestCapacity(mode, promptTokens, context);
            if (fits <= promptTokens) {
                throw neverFits(mode, promptTokens, promptTokens + 1);
            }
            maxTokens = fits - promptTokens;
        } else if (promptTokens + maxTokens > context) {
            throw new ContextLengthExceededException(promptTokens, maxTokens, context);
        }
        long bytes = kvBytes(mode, promptTokens, promptTokens + maxTokens);
        if (bytes > budget.budget()) {
            throw neverFits(mode, promptTokens, promptTokens + maxTokens);
        }
        var fixed = new GenerationRequest(request.prompt(), maxTokens, request.sampling(), request.stopStrings(),
                request.addBos(), request.parseSpecial(), mode);
        return new PreparedGeneration(fixed, prompt, bytes);
    }

    /** The most tokens (prompt included, at most the context) whose cache fits in the whole budget. */
    private int largestCapacity(KvMode mode, int promptTokens, int context) {
        int lo = promptTokens;          // may not fit
        int hi = context;
        if (kvBytes(mode, promptTokens, hi) <= budget.budget()) {
            return hi;
        }
        while (hi - lo > 1) {           // invariant: hi does not fit
            int mid = (lo + hi) >>> 1;
            if (kvBytes(mode, promptTokens, mid) <= budget.budget()) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private KvBudgetExceededException neverFits(KvMode mode, int promptTokens, int capacity) {
        long needed = kvBytes(mode, promptTokens, capacity);
        int fits = largestCapacity(mode, promptTokens, model.config().contextLength());
        String advice = fits > promptTokens
                ? "ask for at most %d tokens, use a smaller KV cache mode, or raise spring.ai.innerq.kv.budget"
                .formatted(fits - promptTokens)
                : "shorten the prompt, use a smaller KV cache mode, or raise spring.ai.innerq.kv.budget";
        return new KvBudgetExceededException(
                "the KV cache of this request needs %s (%s, %d prompt + %d new tokens) but spring.ai.innerq.kv.budget is %s: %s"
                        .formatted(Bytes.format(needed), mode.name(), promptTokens, capacity - promptTokens,
                                Bytes.format(budget.budget()), advice),
                needed, budget.budget(), false);
    }

    /**
     * Waits up to the queue timeout for a slot, then charges the generation's KV bytes. The caller must run the
     * admission ({@link #run}) or close it.
     *
     * @throws EngineBusyException       when every slot stayed busy
     * @throws KvBudgetExceededException when the running generations leave too little of the budget
     */
    public Admission admit(PreparedGeneration prepared) {
        long requested = System.nanoTime();
        Slot slot;
        waiting.incrementAndGet();
        try {
            slot = freeSlots.poll(settings.queueTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineBusyException("interrupted while waiting for a generation slot");
        } finally {
            waiting.decrementAndGet();
        }
        if (slot == null) {
            throw new EngineBusyException(("all %d generation slot%s stayed busy for %s (spring.ai.innerq.queue-timeout):"
                    + " retry later, or raise spring.ai.innerq.concurrency").formatted(settings.concurrency(),
                    settings.concurrency() == 1 ? "" : "s", settings.queueTimeout()));
        }
        KvBudget.Reservation reservation = budget.tryReserve(prepared.kvBytes());
        if (reservation == null) {
            freeSlots.add(slot);
            throw new KvBudgetExceededException(
                    "the KV cache of this request needs %s but only %s of spring.ai.innerq.kv.budget (%s) is free: %s; retry later"
                            .formatted(Bytes.format(prepared.kvBytes()),
                                    Bytes.format(budget.budget() - budget.reserved()),
                                    Bytes.format(budget.budget()), budget.describeUse()),
                    prepared.kvBytes(), budget.budget(), true);
        }
        active.incrementAndGet();
        return new Admission(prepared, slot, reservation, requested);
    }

    /** A generation that holds a slot and its KV bytes; closing gives both back, once. */
    public final class Admission implements AutoCloseable {
        private final PreparedGeneration prepared;
        private final Slot slot;
        private final KvBudget.Reservation reservation;
        private final long requestedNanos;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Admission(PreparedGeneration prepared, Slot slot, KvBudget.Reservation reservation,
                          long requestedNanos) {
            this.prepared = prepared;
            this.slot = slot;
            this.reservation = reservation;
            this.requestedNanos = requestedNanos;
        }

        public PreparedGeneration prepared() {
            return prepared;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                reservation.close();
                active.decrementAndGet();
                freeSlots.add(slot);
            }
        }
    }

    /** {@link #admit}, then {@link #run}: blocks until the generation ends. */
    public GenerationOutcome generate(PreparedGeneration prepared, GenerationListener listener) {
        return run(admit(prepared), listener);
    }

    /**
     * Runs an admitted generation on the calling thread and closes the admission.
     *
     * @return the result; {@link GenerationOutcome#timedOut()} when the time limit stopped it
     * @throws io.innerq.engine.NonFiniteLogitsException when the model computes a NaN or infinite logit: the
     *         generation ends (counted with finish {@code error}), its slot and KV bytes are given back
     */
    public GenerationOutcome run(Admission admission, GenerationListener listener) {
        try (admission) {
            if (admission.closed.get()) {
                throw new IllegalStateException("this admission was closed before it ran");
            }
            PreparedGeneration prepared = admission.prepared;
            long deadline = System.nanoTime() + settings.generationTimeout().toNanos();
            var timedOut = new AtomicBoolean();
            if (listener.cancelled()) {
                var none = new GenerationResult("", prepared.promptTokens(), 0, FinishReason.CANCELLED, 0, 0);
                return new GenerationOutcome(none, false);
            }
            GenerationOutcome outcome;
            try {
                outcome = scheduler != null
                        ? runInBatch(admission, listener, deadline)
                        : new GenerationOutcome(runInSlot(admission, listener, deadline, timedOut), timedOut.get());
            } catch (RuntimeException e) {
                metrics.failed();
                throw e;
            }
            metrics.finished(outcome);
            return outcome;
        }
    }

    /** Runs an admitted generation in the batch; the listener is called on this thread. */
    private GenerationOutcome runInBatch(Admission admission, GenerationListener listener, long deadline) {
        PreparedGeneration prepared = admission.prepared;
        var first = new AtomicBoolean(true);
        Generation generation = batchGenerator.start(prepared.prompt(), prepared.request());
        return scheduler.run(generation, listener, deadline, () -> {
            if (first.getAndSet(false)) {
                metrics.firstToken(System.nanoTime() - admission.requestedNanos);
            }
        });
    }

    /** Runs an admitted generation on its slot's ports, on this thread. */
    private GenerationResult runInSlot(Admission admission, GenerationListener listener, long deadline,
                                       AtomicBoolean timedOut) {
        PreparedGeneration prepared = admission.prepared;
        int promptTokens = prepared.promptTokens();
        var first = new AtomicBoolean(true);
        var inUse = new AtomicReference<>(admission.slot.ports().forward());
        TokenSink sink = new TokenSink() {
            private long lastNanos;
            private int lastCompletion;

            @Override
            public boolean accept(String text) {
                long now = System.nanoTime();
                if (first.getAndSet(false)) {
                    metrics.firstToken(now - admission.requestedNanos);
                }
                int completion = Math.max(1, inUse.get().tokensStored() - promptTokens + 1);
                if (lastCompletion > 0 && completion > lastCompletion) {
                    for (int t = lastCompletion; t < completion; t++) {
                        metrics.timePerOutputToken((now - lastNanos) / (completion - lastCompletion));
                    }
                }
                lastNanos = now;
                lastCompletion = completion;
                if (!listener.onText(text, completion)) {
                    return false;
                }
                if (now - deadline > 0) {
                    timedOut.set(true);
                    return false;
                }
                return true;
            }

            @Override
            public boolean cancelled() { // between chunks of a long prompt
                if (System.nanoTime() - deadline > 0) {
                    timedOut.set(true);
                    return true;
                }
                return listener.cancelled();
            }
        };
        return generate(admission.slot.ports(), prepared, sink, first, inUse);
    }

    /**
     * Runs a generation on the slot's GPU ports, or on its CPU fallback when the circuit is open or the GPU fails
     * before the first token was sent ({@code inUse} is set to the forward pass in use).
     */
    private GenerationResult generate(SlotPorts slot, PreparedGeneration prepared, TokenSink sink, AtomicBoolean first,
                                      AtomicReference<TrackingForward> inUse) {
        int[] prompt = prepared.prompt();
        GenerationRequest request = prepared.request();
        if (slot.fallback() == null) {
            return slot.generator().generate(prompt, request, sink);
        }
        if (!gpuCircuit.tryGpu()) {
            metrics.fallback();
            inUse.set(slot.fallbackForward());
            return slot.fallback().generate(prompt, request, sink);
        }
        long start = System.nanoTime();
        try {
            GenerationResult result = slot.generator().generate(prompt, request, sink);
            gpuCircuit.onSuccess(System.nanoTime() - start);
            return result;
        } catch (RuntimeException e) {
            if (!slot.backend().isDeviceFailure(e)) {
                gpuCircuit.onOtherFailure(System.nanoTime() - start); // not the GPU's fault
                throw e;
            }
            gpuCircuit.onDeviceFailure(System.nanoTime() - start, e);
            if (!first.get()) {
                throw e; // text was sent: running again would repeat it
            }
            log.warn("the GPU failed before the first token ({}); running the generation on the CPU", e.getMessage());
            metrics.fallback();
            inUse.set(slot.fallbackForward());
            return slot.fallback().generate(prompt, request, sink);
        }
    }

    /**
     * The generation as a stream of {@link GenerationEvent.Delta}s and one final {@link GenerationEvent.Finished}.
     * Admission and generation happen on the engine's own threads when it is subscribed; cancelling the
     * subscription stops the generation at its next token and frees its cache.
     */
    public Flux<GenerationEvent> stream(PreparedGeneration prepared) {
        return Flux.<GenerationEvent>create(sink -> emit(admit(prepared), sink)).subscribeOn(streams);
    }

    /**
     * Streams a generation that is already admitted. Subscribe to the result exactly once, or the admission stays
     * held.
     */
    public Flux<GenerationEvent> stream(Admission admission) {
        var claimed = new AtomicBoolean(); // by the generation, or by a cancel that came before it started
        return Flux.<GenerationEvent>create(sink -> {
                    if (claimed.compareAndSet(false, true)) {
                        emit(admission, sink);
                    } else {
                        sink.complete();
                    }
                })
                .subscribeOn(streams)
                .doFinally(signal -> {
                    if (claimed.compareAndSet(false, true)) {
                        admission.close();
                    }
                });
    }

    private void emit(Admission admission, FluxSink<GenerationEvent> sink) {
        var gone = new AtomicBoolean();
        sink.onDispose(() -> gone.set(true));
        int promptTokens = admission.prepared.promptTokens();
        GenerationOutcome outcome = run(admission, new GenerationListener() {
            @Override
            public boolean onText(String text, int completionTokens) {
                if (gone.get() || sink.isCancelled()) {
                    return false;
                }
                sink.next(new GenerationEvent.Delta(text, promptTokens, completionTokens));
                return true;
            }

            @Override
            public boolean cancelled() {
                return gone.get() || sink.isCancelled();
            }
        });
        sink.next(new GenerationEvent.Finished(outcome));
        sink.complete();
    }

    @Override
    public void close() {
        streams.dispose();
        if (scheduler != null) {
            scheduler.close();
            batchBackend.close();
        }
        closeSlots();
        if (gpu != null) {
            gpu.close();
        }
        model.close();
    }
}
