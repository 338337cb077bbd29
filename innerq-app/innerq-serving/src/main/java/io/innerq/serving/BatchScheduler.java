package io.innerq.serving;

import io.innerq.engine.Generation;
import io.innerq.engine.GenerationResult;
import io.innerq.port.out.ForwardPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Continuous batching: one thread ({@code innerq-batch}) runs one forward step for every running generation together
 * ({@link ForwardPort.Batch}), so each weight is read once per step, not once per sequence.
 *
 * <h2>A step</h2>
 * Each generation in decode adds its next token; generations still reading their prompt share the rest of the step
 * ({@code maxTokens} in all), oldest first, a piece each (chunked prefill), so a long prompt delays the others' tokens
 * by at most one step's worth of prompt tokens. A generation joins the step after the one that admitted it and leaves
 * at its end, without waiting for the others; each keeps its own cache and cache mode.
 *
 * <h2>Consumers</h2>
 * Text goes to the generation's own caller thread (the one in {@link #run}), which calls the listener and sends its
 * verdict back: a slow consumer never blocks the batch. A generation waits for the verdict on its text before its
 * next step, so it stops exactly where the consumer says (as {@link io.innerq.engine.Generator} does); a step starts
 * once every generation has its verdict, or after a quarter of the last step's time (at least {@link #MIN_WAIT_NANOS},
 * at most {@link #MAX_WAIT_NANOS}) without the late ones, which join the next step. The time limit and
 * {@link GenerationListener#cancelled()} (called on this thread: it must not block) are checked before each piece of a
 * prompt, as the generator checks them between prompt chunks.
 */
final class BatchScheduler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BatchScheduler.class);

    static final long MIN_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    static final long MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final ForwardPort.Batch batch;
    private final EngineMetrics metrics;
    private final BlockingQueue<Command> inbox = new LinkedBlockingQueue<>();
    private final List<Job> active = new ArrayList<>();      // scheduler thread only, in order of joining
    private final List<ForwardPort.Span> spans = new ArrayList<>();
    private final List<Job> inStep = new ArrayList<>();
    private final AtomicInteger joining = new AtomicInteger();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure; // what stopped the scheduler thread, if anything did
    private volatile long kvBytes;
    private volatile int running;
    private long lastStepNanos;

    /** Commands to the scheduler thread. */
    private sealed interface Command {
    }

    private record Join(Job job) implements Command {
    }

    /** The consumer's verdict on the job's pending text. */
    private record Verdict(Job job, boolean accepted) implements Command {
    }

    /** The caller gave up (interrupted, or its listener failed): end the job now. */
    private record Cancel(Job job) implements Command {
    }

    private record Stop() implements Command {
    }

    /** What the caller thread receives. */
    private sealed interface Event {
    }

    private record Text(String text, int completionTokens) implements Event {
    }

    private record Done(GenerationResult result) implements Event {
    }

    private record Failed(RuntimeException error) implements Event {
    }

    /** One admitted generation: scheduler state, and the events for its caller. */
    private static final class Job {
        final Generation generation;
        final GenerationListener listener;
        final long deadline;
        final AtomicBoolean timedOut = new AtomicBoolean();
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        long lastTokenNanos; // scheduler thread: when its previous token was sampled; 0 before the first
        boolean left;        // scheduler thread: out of the batch, its last event sent

        Job(Generation generation, GenerationListener listener, long deadline) {
            this.generation = generation;
            this.listener = listener;
            this.deadline = deadline;
        }

        boolean pastDeadline() {
            if (System.nanoTime() - deadline > 0) {
                timedOut.set(true);
                return true;
            }
            return false;
        }
    }

    /**
     * @param batch the batch step of the forward pass every generation runs on; this scheduler is its one caller
     */
    BatchScheduler(ForwardPort.Batch batch, EngineMetrics metrics) {
        this.batch = batch;
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("innerq-batch").daemon().unstarted(this::loop);
        thread.start();
    }

    /** Generations admitted and not yet in the batch. */
    int joining() {
        return joining.get();
    }

    /** Generations in the batch now. */
    int running() {
        return running;
    }

    /** Bytes the running generations' caches hold, as of the last step. */
    long kvBytesInUse() {
        return kvBytes;
    }

    /** Tokens one step holds at most. */
    int maxTokens() {
        return batch.maxTokens();
    }

    /**
     * Runs {@code generation} in the batch until it ends, calling {@code listener} on this (the caller's) thread, and
     * closes it.
     *
     * @param deadline {@link System#nanoTime()} past which the generation stops as if at its token limit
     * @param onText   called before the listener with each text, on this thread (the engine's metrics)
     * @return the result, and whether the time limit ended it
     */
    GenerationOutcome run(Generation generation, GenerationListener listener, long deadline, Runnable onText) {
        var job = new Job(generation, listener, deadline);
        synchronized (this) { // a join is in the inbox before the Stop, or refused
            if (closed) {
                generation.close();
                throw closedError();
            }
            joining.incrementAndGet();
            inbox.add(new Join(job));
        }
        Throwable thrown = null;
        boolean interrupted = false;
        while (true) {
            Event event;
            try {
                event = job.events.take();
            } catch (InterruptedException e) {
                interrupted = true;
                inbox.add(new Cancel(job));
                continue;
            }
            switch (event) {
                case Text t -> {
                    boolean accepted = false;
                    if (thrown == null && !interrupted) {
                        try {
                            onText.run();
                            accepted = listener.onText(t.text(), t.completionTokens()) && !job.pastDeadline();
                        } catch (RuntimeException | Error e) {
                            thrown = e;
                        }
                    }
                    inbox.add(new Verdict(job, accepted));
                }
                case Done d -> {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    rethrow(thrown);
                    return new GenerationOutcome(d.result(), job.timedOut.get());
                }
                case Failed f -> {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    rethrow(thrown);
                    throw f.error();
                }
            }
        }
    }

    private static void rethrow(Throwable t) {
        switch (t) {
            case null -> {
            }
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(t);
        }
    }

    private IllegalStateException closedError() {
        Throwable f = failure;
        return f == null
                ? new IllegalStateException("the engine was closed: the generation did not run to its end")
                : new IllegalStateException("the engine's batch stopped on an error (" + f + "): restart the engine", f);
    }

    private void loop() {
        try {
            while (!closed) {
                if (!awaitWork()) {
                    break;
                }
                step();
            }
        } catch (InterruptedException e) {
            // closing
        } catch (RuntimeException | Error e) {
            log.error("the batch scheduler failed; generations end with the error", e);
            failure = e;
            failAll(e instanceof RuntimeException r ? r : new IllegalStateException(e));
        } finally {
            synchronized (this) {
                closed = true;
            }
            failAll(closedError());
            for (Command c; (c = inbox.poll()) != null; ) {
                if (c instanceof Join(Job job)) {
                    joining.decrementAndGet();
                    fail(job, closedError());
                }
            }
            publish();
        }
    }

    /**
     * Takes commands until a step can run: blocks while no generation wants one, and waits a little for verdicts
     * that are late. Returns false on {@link Stop}.
     */
    private boolean awaitWork() throws InterruptedException {
        long waitUntil = System.nanoTime() + Math.clamp(lastStepNanos / 4, MIN_WAIT_NANOS, MAX_WAIT_NANOS);
        while (true) {
            for (Command c; (c = inbox.poll()) != null; ) {
                if (!handle(c)) {
                    return false;
                }
            }
            boolean ready = false;
            boolean waiting = false;
            for (Job job : active) {
                if (job.generation.wantsStep()) {
                    ready = true;
                } else {
                    waiting = true;
                }
            }
            if (!ready) {
                if (!handle(inbox.take())) {
                    return false;
                }
                continue;
            }
            long left = waitUntil - System.nanoTime();
            if (!waiting || left <= 0) {
                return true;
            }
            Command c = inbox.poll(left, TimeUnit.NANOSECONDS);
            if (c != null && !handle(c)) {
                return false;
            }
        }
    }

    private boolean handle(Command command) {
        switch (command) {
            case Join(Job job) -> {
                joining.decrementAndGet();
                active.add(job);
                publish();
            }
            case Verdict(Job job, boolean accepted) -> {
                if (job.left) {
                    return true; // it ended meanwhile
                }
                if (job.generation.pendingText() != null) {
                    job.generation.delivered(accepted);
                }
                dispatch(job);
            }
            case Cancel(Job job) -> {
                if (job.left) {
                    return true;
                }
                job.generation.cancel();
                dispatch(job);
            }
            case Stop() -> {
                return false;
            }
        }
        return true;
    }

    /** One forward step: every decoding generation's next token, then pieces of prompts in what is left. */
    private void step() {
        spans.clear();
        inStep.clear();
        int budget = batch.maxTokens();
        for (Job job : active) {
            Generation g = job.generation;
            if (g.wantsStep() && !g.prompting() && budget > 0) {
                spans.add(new ForwardPort.Span(g.sequence(), g.tokens(), g.nextPosition(), 1));
                inStep.add(job);
                budget--;
            }
        }
        for (int j = 0; j < active.size() && budget > 0; j++) {
            Job job = active.get(j);
            Generation g = job.generation;
            if (!g.wantsStep() || !g.prompting()) {
                continue;
            }
            boolean stop;
            try {
                stop = job.pastDeadline() || job.listener.cancelled();
            } catch (RuntimeException e) {
                leave(job);
                fail(job, e);
                j--;
                continue;
            }
            if (stop) {
                g.cancel();
                if (dispatch(job)) {
                    j--;
                }
                continue;
            }
            int count = g.nextCount(budget);
            spans.add(new ForwardPort.Span(g.sequence(), g.tokens(), g.nextPosition(), count));
            inStep.add(job);
            budget -= count;
        }
        if (spans.isEmpty()) {
            return;
        }
        metrics.batchStep(spans.size(), batch.maxTokens() - budget);
        long start = System.nanoTime();
        float[][] logits;
        try {
            logits = batch.run(spans);
        } catch (RuntimeException e) {
            log.warn("a batched step of {} generations failed: {}", spans.size(), e.toString());
            for (Job job : inStep) {
                leave(job);
                fail(job, e);
            }
            publish();
            return;
        }
        long now = System.nanoTime();
        lastStepNanos = now - start;
        for (int i = 0; i < inStep.size(); i++) {
            Job job = inStep.get(i);
            Generation g = job.generation;
            boolean decoding = !g.prompting();
            int before = g.completionTokens();
            try {
                g.advance(spans.get(i).count(), logits[i]);
            } catch (RuntimeException e) {
                leave(job);
                fail(job, e);
                inStep.set(i, null);
                continue;
            }
            if (g.completionTokens() > before) {
                if (decoding && job.lastTokenNanos != 0) {
                    metrics.timePerOutputToken(now - job.lastTokenNanos);
                }
                job.lastTokenNanos = now;
            }
        }
        publish(); // the caches' sizes, before any caller hears of this step
        for (Job job : inStep) {
            if (job != null) {
                dispatch(job);
            }
        }
    }

    /**
     * Sends the job's pending text to its caller, or, once it is done, closes it and sends the result. Returns
     * whether the job left the batch.
     */
    private boolean dispatch(Job job) {
        Generation g = job.generation;
        if (g.pendingText() != null) {
            job.events.add(new Text(g.pendingText(), g.completionTokens()));
            return false;
        }
        if (!g.done()) {
            return false;
        }
        leave(job);
        RuntimeException failure = null;
        try {
            g.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        publish(); // before the caller hears: the engine's figures are back when run returns
        job.events.add(failure != null ? new Failed(failure) : new Done(g.result()));
        return true;
    }

    private void failAll(RuntimeException error) {
        var jobs = List.copyOf(active);
        active.clear();
        for (Job job : jobs) {
            fail(job, error);
        }
    }

    private void leave(Job job) {
        active.remove(job);
        job.left = true;
    }

    /** Closes a job that left the batch and sends {@code error} to its caller. */
    private void fail(Job job, RuntimeException error) {
        job.left = true;
        try {
            job.generation.close();
        } catch (RuntimeException e) {
            error.addSuppressed(e);
        }
        publish();
        job.events.add(new Failed(error));
    }

    private void publish() {
        long bytes = 0;
        for (Job job : active) {
            bytes += job.generation.sequence().kvBytes();
        }
        kvBytes = bytes;
        running = active.size();
    }

    /** Stops the scheduler thread; generations still running end with an {@link IllegalStateException}. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            inbox.add(new Stop());
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
