package io.innerq.cli;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** A labelled scatter plot written as PNG, drawn with Java2D (headless). */
public final class ScatterChart {

    /** One labelled point. */
    public record Point(String label, double x, double y) {
    }

    private static final int WIDTH = 900;
    private static final int HEIGHT = 600;
    private static final int LEFT = 90;
    private static final int RIGHT = 40;
    private static final int TOP = 60;
    private static final int BOTTOM = 70;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
            new Color(0x7f7f7f), new Color(0xbcbd22)};

    private ScatterChart() {
    }

    public static void write(Path file, String title, String xLabel, String yLabel, List<Point> points)
            throws IOException {
        if (points.isEmpty()) {
            throw new IllegalArgumentException("a chart needs at least one point");
        }
        System.setProperty("java.awt.headless", "true");
        var image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);

            // x on a log2 scale: bit widths from 2 to 32 spread evenly
            double[] xr = range(points.stream().mapToDouble(p -> log2(p.x())).toArray());
            double[] yr = range(points.stream().mapToDouble(Point::y).toArray());
            int plotW = WIDTH - LEFT - RIGHT;
            int plotH = HEIGHT - TOP - BOTTOM;

            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.setColor(Color.BLACK);
            centered(g, title, WIDTH / 2, 32);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (double xv = Math.ceil(xr[0]); xv <= xr[1]; xv += 1) {
                int px = LEFT + (int) Math.round((xv - xr[0]) / (xr[1] - xr[0]) * plotW);
                g.setColor(new Color(0xeeeeee));
                g.drawLine(px, TOP, px, TOP + plotH);
                g.setColor(Color.DARK_GRAY);
                centered(g, String.format(Locale.ROOT, "%.0f", Math.pow(2, xv)), px, TOP + plotH + 18);
            }
            double yStep = niceStep(yr[1] - yr[0]);
            for (double yv = Math.ceil(yr[0] / yStep) * yStep; yv <= yr[1]; yv += yStep) {
                int py = TOP + plotH - (int) Math.round((yv - yr[0]) / (yr[1] - yr[0]) * plotH);
                g.setColor(new Color(0xeeeeee));
                g.drawLine(LEFT, py, LEFT + plotW, py);
                g.setColor(Color.DARK_GRAY);
                String label = format(yv, yStep);
                g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), py + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, plotW, plotH);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            centered(g, xLabel, LEFT + plotW / 2, HEIGHT - 22);
            var saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            centered(g, yLabel, -(TOP + plotH / 2), 24);
            g.setTransform(saved);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setStroke(new BasicStroke(1.5f));
            int legendX = LEFT + plotW - 240;
            int legendY = TOP + 12;
            g.setColor(new Color(255, 255, 255, 230));
            g.fillRect(legendX - 8, legendY - 6, 240, 18 * points.size() + 8);
            g.setColor(Color.LIGHT_GRAY);
            g.drawRect(legendX - 8, legendY - 6, 240, 18 * points.size() + 8);
            for (int i = 0; i < points.size(); i++) {
                Point p = points.get(i);
                Color color = PALETTE[i % PALETTE.length];
                int px = LEFT + (int) Math.round((log2(p.x()) - xr[0]) / (xr[1] - xr[0]) * plotW);
                int py = TOP + plotH - (int) Math.round((p.y() - yr[0]) / (yr[1] - yr[0]) * plotH);
                g.setColor(color);
                g.fillOval(px - 5, py - 5, 10, 10);
                int ly = legendY + 18 * i;
                g.fillOval(legendX, ly, 10, 10);
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%s (%.2f bits, %.4f)", p.label(), p.x(), p.y()),
                        legendX + 16, ly + 10);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    /** Bounds with 8% padding; a flat series gets a small band around its value. */
    private static double[] range(double[] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double pad = max > min ? (max - min) * 0.08 : Math.max(Math.abs(max) * 0.01, 1e-3);
        return new double[]{min - pad, max + pad};
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }

    /** A round tick spacing (1, 2 or 5 times a power of ten) giving about five ticks over {@code span}. */
    static double niceStep(double span) {
        double raw = span / 5;
        double power = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / power;
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
    }

    /** A tick label with as many decimals as the step needs. */
    private static String format(double v, double step) {
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static void centered(Graphics2D g, String text, int x, int y) {
        g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, y);
    }
}
