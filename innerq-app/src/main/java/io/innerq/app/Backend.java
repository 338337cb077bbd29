package io.innerq.app;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.cpu.CpuWorkers;
import io.innerq.cpu.VectorKvCaches;
import io.innerq.cpu.VectorMatVec;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;

import java.util.Locale;

/** The ports a generator runs on, chosen by name. Closing it stops its worker threads. */
public record Backend(String name, MatVecPort matVec, KvCachePort caches, AutoCloseable resources)
        implements AutoCloseable {

    /**
     * @param name    {@code cpu} (Vector API kernels; matrix products and attention split across threads) or
     *                {@code scalar} (the single-threaded reference ports)
     * @param threads worker threads for {@code cpu}; 0 for one per available core
     */
    public static Backend open(String name, int threads) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> {
                int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
                var workers = new CpuWorkers(n); // shared by the products and the attention, called in turn
                yield new Backend("cpu", new VectorMatVec(workers), new VectorKvCaches(workers), workers);
            }
            case "scalar" -> new Backend("scalar", new ScalarMatVec(), new ReferenceKvCaches(), () -> { });
            default -> throw new IllegalArgumentException(
                    "unknown backend '%s': use cpu or scalar".formatted(name));
        };
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing backend " + name, e);
        }
    }
}
