"""The CSS of the tablet pages: touch targets, large type, narrow screens.

Targets are at least 48 × 48 CSS px (WCAG 2.5.5 / Material touch target); labels at least 18 px, 24 px
with the 大字 toggle; below 600 px a rating grid stacks its choices under the item.
"""

from __future__ import annotations

CSS = """
<style>
.sh-root { font-size: 20px; line-height: 1.5; max-width: 960px; margin: 0 auto; }
.sh-root, .sh-root * {
  font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", sans-serif; }
.sh-root.sh-large { font-size: 26px; }
.sh-root .widget-label, .sh-root .widget-html, .sh-root .widget-html-content,
.sh-root .widget-inline-hbox .widget-label { font-size: inherit; line-height: inherit; }
.sh-root .widget-html-content { white-space: normal; }
.sh-root button.jupyter-button, .sh-root .jupyter-button { min-height: 56px; min-width: 72px;
  height: auto; font-size: inherit; padding: 6px 16px; margin: 4px; border-radius: 10px;
  white-space: normal; line-height: 1.3; }
.sh-root .sh-choice { background: #ffffff; border: 2px solid #5b6b7a; color: #1b1b1b; }
.sh-root .sh-choice.sh-selected { background: #1f5fa8; border-color: #1f5fa8; color: #ffffff;
  font-weight: bold; }
.sh-root .sh-choice.sh-selected::before { content: "✓ "; }
.sh-root .sh-nav { min-width: 140px; }
.sh-root .sh-primary { background: #1f7a3a; color: #ffffff; font-weight: bold; }
.sh-root .sh-small-button { min-height: 48px; min-width: 48px; }
.sh-root .sh-question { margin: 14px 0 18px 0; padding: 8px 4px; border-bottom: 1px solid #dde3ea; }
.sh-root .sh-label { font-weight: bold; }
.sh-root .sh-hint { color: #4a5563; font-size: 0.9em; }
.sh-root .sh-error { color: #b00020; font-weight: bold; }
.sh-root .sh-status { color: #1f7a3a; font-size: 0.85em; }
.sh-root .sh-status.sh-failed { color: #b00020; }
.sh-root .sh-title { font-size: 1.3em; font-weight: bold; }
.sh-root .sh-progress { color: #4a5563; }
.sh-root .sh-grid-row { display: flex; flex-direction: row; align-items: center; flex-wrap: nowrap;
  border-bottom: 1px solid #eef1f4; padding: 4px 0; }
.sh-root .sh-grid-row > .sh-grid-item { flex: 0 0 32%; font-weight: bold; }
.sh-root .sh-grid-row > .sh-choices { flex: 1 1 auto; flex-wrap: wrap; }
.sh-root input, .sh-root textarea { font-size: inherit !important; min-height: 48px; }
.sh-root textarea { min-height: 120px; }
.sh-root .sh-numpad button { min-width: 80px; min-height: 64px; }
.sh-root .sh-number-display input { font-size: 1.4em !important; text-align: center; }
@media (max-width: 600px) {
  .sh-root .sh-grid-row { flex-direction: column; align-items: stretch; }
  .sh-root .sh-grid-row > .sh-grid-item { flex: 0 0 auto; }
  .sh-root .sh-nav { min-width: 110px; }
}
.sh-board { font-size: 28px; }
.sh-board .sh-big { font-size: 56px; font-weight: bold; }
.sh-board table { border-collapse: collapse; width: 100%; }
.sh-board td, .sh-board th { padding: 8px 14px; border-bottom: 1px solid #ccd; text-align: left; }
</style>
"""
