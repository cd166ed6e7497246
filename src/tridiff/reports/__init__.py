"""The reports: results formatted as markdown, HTML, JSON, CSV, the terminal, SVG plots and
circuits, written into a folder that is swapped in whole. Writers format; they never compute."""
