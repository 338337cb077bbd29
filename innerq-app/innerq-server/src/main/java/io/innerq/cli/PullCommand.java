package io.innerq.cli;

import io.innerq.serving.ModelCatalog;
import io.innerq.serving.ModelDownloader;
import io.innerq.serving.ModelDownloader.DownloadException;
import io.innerq.serving.ModelDownloader.Outcome;
import io.innerq.serving.ModelDownloader.Request;
import io.innerq.serving.ModelDownloader.Sha256;
import io.innerq.serving.ModelResolver;

import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * {@code innerq pull URL|NAME [--sha256 HEX] [--force]}: downloads a GGUF file into the model cache
 * ({@link ModelResolver#cacheDirectory()}), where {@code --model} finds it. {@code innerq pull} alone or
 * {@code innerq pull --list} lists the catalog of names.
 */
final class PullCommand {

    private static final long MIB = 1 << 20;

    private PullCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        try (HttpClient client = ModelDownloader.defaultClient(System.getenv())) {
            return run(args, out, err, ModelResolver.cacheDirectory(), client);
        }
    }

    /** The same with the directory and client given (tests). */
    static int run(List<String> args, PrintStream out, PrintStream err, Path directory, HttpClient client) {
        var positional = new ArrayList<String>();
        var options = new ArrayList<String>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-h")) {
                throw new CliArguments.HelpRequested();
            }
            if (!a.startsWith("--")) {
                positional.add(a);
            } else {
                options.add(a);
                if (a.equals("--sha256") && i + 1 < args.size()) {
                    options.add(args.get(++i));
                }
            }
        }
        var cli = CliArguments.parse("pull", options, Set.of("sha256"), Set.of("force", "list"));
        if (positional.size() > 1) {
            throw new CliArguments.UsageException("'pull' takes one URL or name, got %d: %s"
                    .formatted(positional.size(), String.join(" ", positional)));
        }
        if (positional.isEmpty() || cli.flag("list")) {
            if (!positional.isEmpty() || cli.get("sha256").isPresent() || cli.flag("force")) {
                throw new CliArguments.UsageException("'pull --list' takes nothing else");
            }
            list(out, directory);
            return 0;
        }
        Optional<Sha256> sha256 = cli.get("sha256").map(hex -> {
            try {
                return Sha256.parse(hex);
            } catch (IllegalArgumentException e) {
                throw new CliArguments.UsageException("--sha256: " + e.getMessage());
            }
        });
        Request request = request(positional.getFirst(), sha256, cli.flag("force"), err);

        var downloader = new ModelDownloader(directory, client);
        Path target = directory.resolve(request.fileName());
        if (request.force() || !Files.isRegularFile(target)) {
            err.printf("downloading %s%n  to %s%n", request.url(), target);
        }
        Outcome outcome;
        try {
            outcome = downloader.download(request, new Bar(err));
        } catch (DownloadException e) {
            err.println("innerq: " + e.getMessage());
            return 1;
        }
        String name = request.fileName().substring(0, request.fileName().length() - ".gguf".length());
        switch (outcome) {
            case Outcome.AlreadyPresent present -> out.printf(Locale.ROOT,
                    "%s is already there (%,d bytes); pass --force to download it again%n", present.path(),
                    present.bytes());
            case Outcome.Downloaded done -> {
                out.printf(Locale.ROOT, "saved %s (%,d bytes, sha256 %s, %s)%n", done.path(), done.bytes(),
                        done.sha256(), done.checked() ? "as expected" : "not pinned: nothing to compare with");
                out.printf("run it with --model %s%n", name);
            }
        }
        return 0;
    }

    /** A catalog name, or an http(s) URL. */
    private static Request request(String target, Optional<Sha256> sha256, boolean force, PrintStream err) {
        if (!target.contains("://")) {
            var entry = ModelCatalog.find(target);
            if (entry.isEmpty()) {
                List<ModelCatalog.Entry> close = ModelCatalog.startingWith(target);
                throw new CliArguments.UsageException(close.isEmpty()
                        ? "'%s' is not a model name of the catalog nor a URL; run 'innerq pull --list' for the names"
                                .formatted(target)
                        : "'%s' comes in %s; name one".formatted(target,
                                String.join(", ", close.stream().map(ModelCatalog.Entry::name).toList())));
            }
            var e = entry.get();
            // a digest of one's own is for a file that changed upstream: its size changed too
            return sha256.isPresent()
                    ? new Request(e.url(), e.fileName(), sha256, OptionalLong.empty(), force)
                    : new Request(e.url(), e.fileName(), e.sha256(), e.size(), force);
        }
        URI url;
        try {
            url = new URI(target);
        } catch (URISyntaxException e) {
            throw new CliArguments.UsageException("'%s' is not a valid URL: %s".formatted(target, e.getReason()));
        }
        url = resolveInsteadOfBlob(url, err);
        try {
            return new Request(url, Request.fileNameOf(url), sha256, OptionalLong.empty(), force);
        } catch (IllegalArgumentException e) {
            throw new CliArguments.UsageException(e.getMessage());
        }
    }

    /** A Hugging Face {@code /blob/} URL is the file's web page; its {@code /resolve/} URL is the file. */
    private static URI resolveInsteadOfBlob(URI url, PrintStream err) {
        String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        if ((host.equals("huggingface.co") || host.equals("hf.co")) && path.contains("/blob/")) {
            URI resolved = url.resolve(path.replaceFirst("/blob/", "/resolve/"));
            err.println("(" + url + " is a web page; downloading " + resolved + ")");
            return resolved;
        }
        return url;
    }

    private static void list(PrintStream out, Path directory) {
        out.println("innerq pull NAME downloads one of these into " + directory + ":");
        out.println();
        int width = ModelCatalog.entries().stream().mapToInt(e -> e.name().length()).max().orElse(0);
        for (ModelCatalog.Entry e : ModelCatalog.entries()) {
            String size = e.size().isPresent() ? "%,d MiB".formatted(Math.max(1, e.size().getAsLong() / MIB)) : "";
            out.printf(Locale.ROOT, "  %-" + width + "s  %9s  %s%s%n", e.name(), size, e.title(),
                    e.sha256().isPresent() ? "" : " (no published SHA-256: only the GGUF check)");
        }
        out.println();
        out.println("innerq pull URL [--sha256 HEX] downloads any other .gguf file; --force downloads again.");
    }

    /** The transfer as a progress bar in MiB (of what this transfer fetches, so that a resume's estimate holds). */
    private static final class Bar implements ModelDownloader.Progress {
        private final PrintStream err;
        private ProgressBar bar;
        private long offset;
        private long total;
        private long bytes;
        private int totalMib;
        private int shown = -1;

        Bar(PrintStream err) {
            this.err = err;
        }

        @Override
        public void started(long offset, long total) {
            this.offset = offset;
            this.total = total;
            this.bytes = offset;
            if (total > offset) {
                totalMib = (int) Math.max(1, (total - offset) / MIB);
                bar = new ProgressBar(err, "MiB", totalMib);
            }
        }

        @Override
        public void advanced(long bytes) {
            this.bytes = bytes;
            if (bar != null) {
                int mib = (int) Math.min(totalMib - 1, (bytes - offset) / MIB); // the whole count from stopped()
                if (mib != shown) {
                    shown = mib;
                    bar.update(mib);
                }
            }
        }

        @Override
        public void stopped() {
            if (bar != null) {
                if (bytes == total) {
                    bar.finish();
                } else {
                    err.println(); // broke off: end the bar's line before the error
                }
                bar = null;
            }
        }

        @Override
        public void note(String line) {
            err.println(line);
        }
    }
}
