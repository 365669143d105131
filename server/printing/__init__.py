"""Printing: receipts as data -> ESC/POS bytes (native GB18030 or raster) or PNG previews;
printers as configuration; a durable print queue and its worker. See docs/printing.md."""
