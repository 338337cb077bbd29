package io.innerq.serving;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.cpu.CpuWorkers;
import io.innerq.cpu.VectorKvCaches;
import io.innerq.cpu.VectorMatVec;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.tensor.ScalarMatVec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ports one generation slot runs on. Closing a backend stops its worker threads; a GPU backend leaves the shared
 * device open ({@link GpuRuntime} is closed by whoever opened it).
 */
public sealed interface Backend extends AutoCloseable permits Backend.Cpu, Backend.Scalar, VulkanBackend {

    /** {@code cpu}, {@code scalar} or {@code vulkan}. */
    String name();

    /** This backend's forward pass over {@code model}. */
    ForwardPort forward(LlamaModel model);

    /** The CPU forward pass that a generation whose device failed runs on instead; null for a host backend. */
    default ForwardPort fallbackForward(LlamaModel model) {
        return null;
    }

    /** Whether {@code e} is a failure of this backend's device, after which the generation may run on the fallback. */
    default boolean isDeviceFailure(RuntimeException e) {
        return false;
    }

    @Override
    void close();

    /**
     * Opens a backend of {@code kind} with {@code threads} CPU workers (0: one per core) for a single user, such as a
     * command; {@link BackendKind#AUTO} and {@link BackendKind#VULKAN} open a device of their own, closed with it.
     */
    static Backend open(BackendKind kind, int threads) {
        return switch (kind) {
            case SCALAR -> new Scalar();
            case CPU -> cpu(threads);
            case VULKAN, AUTO -> {
                GpuRuntime gpu = GpuSupport.open(kind);
                yield gpu == null ? cpu(threads) : VulkanBackend.owning(gpu, threads);
            }
        };
    }

    /** The CPU backend, or the scalar one (with one warning per JVM) when the Vector API module is missing. */
    static Backend cpu(int threads) {
        if (!Cpu.vectorApiPresent()) {
            Cpu.warnOnce();
            return new Scalar();
        }
        return Cpu.open(threads);
    }

    /** Threads for {@code threads}: itself when positive, else one per available core. */
    static int threads(int threads) {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** Vector API kernels; the products and the attention share one pool of workers, called in turn. */
    record Cpu(VectorMatVec matVec, VectorKvCaches caches, CpuWorkers workers) implements Backend {

        private static final Logger log = LoggerFactory.getLogger(Backend.class);
        private static final AtomicBoolean warned = new AtomicBoolean();

        /** The JVM flags the CPU backend needs for its vector kernels (and the GPU backend for native access). */
        public static final String JVM_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

        static Cpu open(int threads) {
            var workers = new CpuWorkers(threads(threads));
            return new Cpu(new VectorMatVec(workers), new VectorKvCaches(workers), workers);
        }

        static boolean vectorApiPresent() {
            return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        }

        private static void warnOnce() {
            if (warned.compareAndSet(false, true)) {
                log.warn("this JVM lacks the Vector API (jdk.incubator.vector): InnerQ runs its scalar reference "
                        + "backend, many times slower; start the JVM with {} for full speed", JVM_FLAGS);
            }
        }

        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public ForwardPort forward(LlamaModel model) {
            return new HostForward(model, matVec, caches);
        }

        @Override
        public void close() {
            workers.close();
        }
    }

    /** The single-threaded reference ports. */
    record Scalar() implements Backend {
        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public ForwardPort forward(LlamaModel model) {
            return new HostForward(model, new ScalarMatVec(), new ReferenceKvCaches());
        }

        @Override
        public void close() {
        }
    }
}
